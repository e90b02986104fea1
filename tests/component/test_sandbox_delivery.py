"""The webhook deliverer against a tiny receiver on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from local.sandboxes.delivery import Deliverer, Delivery, NonLoopbackURL, webhook_url


class Receiver:
    """Records every request; ``answer(event_id, nth)`` picks the status of the nth arrival."""

    def __init__(self, answer: Callable[[str, int], int] | None = None) -> None:
        self.answer = answer or (lambda event_id, nth: 200)
        self.arrivals: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = json.loads(body)["id"]
                with receiver.lock:
                    receiver.arrivals.append(event_id)
                    receiver.headers.append(dict(self.headers.items()))
                    nth = receiver.arrivals.count(event_id)
                status = receiver.answer(event_id, nth)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/acme/stripe"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def events(url: str, count: int) -> list[Delivery]:
    return [
        Delivery(
            url, {"X-Seq": str(i)}, json.dumps({"id": f"evt_{i:04d}"}).encode(), f"evt_{i:04d}"
        )
        for i in range(count)
    ]


def test_duplicates_follow_the_rate_and_every_event_arrives(receiver: Receiver) -> None:
    batch = events(receiver.url, 400)
    report = Deliverer(duplicate_rate=0.3, max_extra_copies=3, seed=3, concurrency=4).deliver(batch)
    counts = Counter(receiver.arrivals)
    assert set(counts) == {d.event_id for d in batch}
    assert report.all_acknowledged and not report.failed
    assert report.events == report.unique == 400
    assert sum(counts.values()) == report.sent == 400 + report.duplicates
    assert sum(1 for n in counts.values() if n > 1) == report.duplicated_events
    assert 0.22 <= report.duplicated_events / 400 <= 0.38
    assert max(counts.values()) <= 4
    assert report.by_status == {200: report.sent}


def test_full_shuffle_and_window_reordering(receiver: Receiver) -> None:
    batch = events(receiver.url, 60)
    Deliverer(reorder="full", seed=5, concurrency=1).deliver(batch)
    shuffled = list(receiver.arrivals)
    assert sorted(shuffled) == [d.event_id for d in batch]
    assert shuffled != [d.event_id for d in batch]

    receiver.arrivals.clear()
    Deliverer(reorder="window", reorder_window=5, seed=5, concurrency=1).deliver(batch)
    positions = {event_id: index for index, event_id in enumerate(receiver.arrivals)}
    drift = [abs(positions[d.event_id] - i) for i, d in enumerate(batch)]
    assert max(drift) <= 5
    assert any(drift)


def test_retries_after_500_until_acknowledged() -> None:
    with Receiver(lambda event_id, nth: 500 if nth <= 2 else 200) as flaky:
        report = Deliverer(seed=1, backoff_initial=0.001, backoff_max=0.01).deliver(
            events(flaky.url, 20)
        )
    assert report.all_acknowledged
    assert report.retries == 40
    assert report.by_status == {500: 40, 200: 20}
    assert Counter(flaky.arrivals) == {f"evt_{i:04d}": 3 for i in range(20)}


def test_gives_up_after_max_attempts_and_reports_failures() -> None:
    with Receiver(lambda event_id, nth: 503) as down:
        report = Deliverer(max_attempts=3, backoff_initial=0.001, backoff_max=0.002).deliver(
            events(down.url, 5)
        )
    assert report.failed == [f"evt_{i:04d}" for i in range(5)]
    assert report.unique == 0 and report.sent == 15 and report.retries == 10
    # Only the listed statuses are retried when the caller says so.
    with Receiver(lambda event_id, nth: 400) as strict:
        report = Deliverer(retry_statuses={500, 503}).deliver(events(strict.url, 3))
    assert report.sent == 3 and report.retries == 0


def test_connection_errors_count_as_status_zero() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    nobody = f"http://127.0.0.1:{port}/webhooks/acme/shop"
    report = Deliverer(max_attempts=2, backoff_initial=0.001, backoff_max=0.001).deliver(
        events(nobody, 2)
    )
    assert report.by_status == {0: 4}
    assert len(report.failed) == 2


def test_non_loopback_urls_are_refused_before_anything_is_sent(receiver: Receiver) -> None:
    batch = [*events(receiver.url, 2), *events("http://example.com/webhooks/acme/stripe", 1)]
    with pytest.raises(NonLoopbackURL):
        Deliverer().deliver(batch)
    assert receiver.arrivals == []
    for url in ("https://127.0.0.1/x", "http://10.0.0.8/x", "http://127.0.0.1.nip.io/x"):
        with pytest.raises(NonLoopbackURL):
            Deliverer().deliver(events(url, 1))
    with pytest.raises(NonLoopbackURL):
        webhook_url("http://192.168.1.2:8787", "acme", "stripe")
    assert webhook_url("http://[::1]:8787", "acme", "carriers", "shippo", query={"token": "t"}) == (
        "http://[::1]:8787/webhooks/acme/carriers/shippo?token=t"
    )


def test_signatures_are_made_at_each_attempt() -> None:
    calls: list[bytes] = []

    def sign(body: bytes) -> dict[str, str]:
        calls.append(body)
        return {"X-Signature": f"sig-{len(calls)}"}

    with Receiver(lambda event_id, nth: 500 if nth == 1 else 200) as flaky:
        batch = [Delivery(flaky.url, {}, b'{"id": "evt_1"}', "evt_1", sign=sign)]
        report = Deliverer(backoff_initial=0.001).deliver(batch)
    assert report.all_acknowledged and len(calls) == 2
    assert [h["X-Signature"] for h in flaky.headers] == ["sig-1", "sig-2"]
    assert flaky.headers[0]["Content-Type"] == "application/json"


def test_the_plan_is_reproducible_with_a_seed() -> None:
    batch = events("http://127.0.0.1:9/webhooks/acme/stripe", 100)

    def plan(seed: int) -> list[tuple[str, int, float]]:
        deliverer = Deliverer(duplicate_rate=0.4, reorder="window", delay=(0, 0.01), seed=seed)
        return [(j.delivery.event_id, j.copy, j.delay) for j in deliverer.plan(batch)]

    assert plan(8) == plan(8)
    assert plan(8) != plan(9)
    with pytest.raises(ValueError, match="delay"):
        Deliverer(delay=(0.0, 5.0))
