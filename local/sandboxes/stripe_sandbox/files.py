"""File uploads (``POST /v1/files``, multipart as on files.stripe.com): what dispute evidence's
file fields name. Stripe takes PDF, JPEG and PNG for ``dispute_evidence``, 5 MB each at most;
the type is read from the content, as Stripe does."""

from __future__ import annotations

from local.sandboxes.stripe_sandbox.account import Account, Ctx
from local.sandboxes.stripe_sandbox.errors import JSON, invalid

MAX_EVIDENCE_BYTES = 5 * 1024 * 1024
_PURPOSES = frozenset({"dispute_evidence", "additional_verification", "identity_document"})
_SIGNATURES = ((b"%PDF-", "pdf"), (b"\xff\xd8\xff", "jpg"), (b"\x89PNG\r\n\x1a\n", "png"))


def file_type(content: bytes) -> str | None:
    return next((kind for magic, kind in _SIGNATURES if content.startswith(magic)), None)


class Files(Account):
    def _file_create(self, ctx: Ctx, p: JSON) -> JSON:
        self._allow(p, frozenset({"purpose", "file", "file_link_data"}))
        purpose = p.get("purpose")
        if purpose not in _PURPOSES:
            raise invalid(f"Invalid purpose: {purpose}", param="purpose")
        upload = p.get("file")
        if not isinstance(upload, dict) or not isinstance(upload.get("content"), bytes):
            raise invalid("Missing required param: file.", param="file")
        content: bytes = upload["content"]
        kind = file_type(content)
        if purpose == "dispute_evidence" and kind is None:
            raise invalid("Dispute evidence must be a PDF, JPEG or PNG file.", param="file")
        if purpose == "dispute_evidence" and len(content) > MAX_EVIDENCE_BYTES:
            raise invalid(
                f"The file is {len(content)} bytes; dispute evidence files may be at most "
                f"{MAX_EVIDENCE_BYTES} bytes.",
                param="file",
            )
        stored: JSON = {
            "id": self._id("file"),
            "object": "file",
            "created": self.now(),
            "filename": upload.get("filename") or "upload",
            "purpose": purpose,
            "size": len(content),
            "type": kind,
            "url": None,
        }
        self._store("file", stored)
        return stored
