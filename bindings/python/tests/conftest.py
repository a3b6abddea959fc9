"""Shared fixtures: temporary stores and a real relay (the logbook-relay binary whose path
scripts/test-python.sh passes in LOGBOOK_RELAY_BIN) on a free loopback port."""

import asyncio
import os
import queue
import subprocess
import threading
from pathlib import Path

import pytest

import logbook_core as core
import logbook_ffi as ffi

# Every test store is encrypted at rest under a key derived from this passphrase.
TEST_PASSPHRASE = "test passphrase, not secret"


class Relay:
    """A relay serving a temporary data directory; `close()` stops it."""

    def __init__(self, data_dir: Path):
        self.bin = os.environ.get("LOGBOOK_RELAY_BIN", "")
        if not self.bin or not os.access(self.bin, os.X_OK):
            raise RuntimeError("LOGBOOK_RELAY_BIN must name the logbook-relay binary (scripts/test-python.sh sets it)")
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(data_dir / "relay.log", "wb")
        # Port 0: the OS picks a free port; the relay prints the address it bound.
        self.process = subprocess.Popen(
            [self.bin, "serve", "--data", str(data_dir), "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE, stderr=self._log, text=True,
        )
        lines: "queue.Queue[str]" = queue.Queue()
        threading.Thread(target=lambda: [lines.put(l) for l in self.process.stdout], daemon=True).start()
        try:
            while True:
                line = lines.get(timeout=30)
                if line.startswith("listening on "):
                    self.url = line.removeprefix("listening on ").strip()
                    break
        except queue.Empty:
            self.close()
            raise RuntimeError(f"the relay did not start within 30 s (log in {data_dir}/relay.log)")

    def create_coop(self, name: str) -> str:
        """Create a coop; returns the one-time coordinator join code."""
        out = subprocess.run(
            [self.bin, "admin", "--data", str(self.data_dir), "create-coop", "--name", name],
            check=True, capture_output=True, text=True, timeout=30,
        ).stdout
        line = next(l for l in out.splitlines() if l.startswith("coordinator code:"))
        return line.split(":", 1)[1].strip()

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


@pytest.fixture
def relay(tmp_path):
    r = Relay(tmp_path / "relay")
    yield r
    r.close()


@pytest.fixture
def standalone(tmp_path):
    """A standalone coop with one site and one worker: (logbook, site_id, person_id)."""
    book = ffi.Logbook.open_with_passphrase(str(tmp_path / "standalone"), TEST_PASSPHRASE)
    book.init_coop("Riverside Bakery Co-op", "Europe/London")
    site = book.directory().add_site("Bakery")
    person = book.directory().add_person("Ben", [core.PersonRole.WORKER], [site], False)
    return book, site, person


def run(coro):
    """Run one coroutine (the bindings' async calls) to completion."""
    return asyncio.run(coro)
