"""The evidence packet as PDF (fpdf2): a title, then each section's heading and lines.

fpdf2's built-in fonts cover Latin-1 only; other characters are written as ``?`` rather than
failing the packet (the text fields sent beside it keep them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from functions.disputes.domain.evidence import PacketSection

CONTENT_TYPE = "application/pdf"


def _latin1(text: str) -> str:
    return text.encode("latin-1", errors="replace").decode("latin-1")


def render_packet(title: str, sections: Sequence[PacketSection], at: datetime) -> bytes:
    # Loaded on the first packet: the processor builds the desk at its cold start, and most
    # events it applies are no dispute.
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    # The packet's date is the moment it was drafted (our clock), so the same draft renders
    # the same bytes.
    pdf.set_creation_date(at)
    pdf.set_title(_latin1(title))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", style="B", size=14)
    pdf.multi_cell(0, 8, _latin1(title), new_x="LMARGIN", new_y="NEXT")
    for section in sections:
        pdf.ln(3)
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.multi_cell(0, 6, _latin1(section.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Courier", size=9)
        for line in section.lines or ["(none)"]:
            pdf.multi_cell(0, 4.5, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


class PdfPackets:
    """The ``PacketRenderer`` port."""

    content_type = CONTENT_TYPE

    def render(self, title: str, sections: Sequence[PacketSection], at: datetime) -> bytes:
        return render_packet(title, sections, at)
