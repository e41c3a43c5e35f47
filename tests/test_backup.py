"""`flexplugins db backup`: an online copy of SQLite taken under write load, restored and served."""

from __future__ import annotations

import os
import stat
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from flexplugins.service import accounts
from flexplugins.storage.db import Database
from tests.serving import flexplugins_exe, serve

API = "/v1/PluginService"


def run_backup(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLEXPLUGINS_")}
    return subprocess.run(
        [flexplugins_exe(), "db", "backup", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_backup_under_write_load_restores_every_acknowledged_write(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    db = Database(url)
    db.upgrade()
    account, token = accounts.create_account(db)
    db.dispose()
    proc = serve(url, tmp_path)
    acknowledged: list[tuple[float, float, str]] = []  # (when sent, when the 201 arrived, plugin SID)
    lock = threading.Lock()
    stop = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(base_url=proc.url, auth=(account.sid, token), timeout=30) as http:
            i = 0
            while not stop.is_set():
                i += 1
                sent = time.monotonic()
                response = http.post(
                    f"{API}/Plugins", data={"UniqueName": f"w{n}-{i}", "Description": "x" * 200}
                )
                assert response.status_code == 201, response.text
                with lock:
                    acknowledged.append((sent, time.monotonic(), response.json()["sid"]))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    backup = tmp_path / "backup.db"
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.5)
        started = time.monotonic()
        result = run_backup(str(backup), "--database", url)
        finished = time.monotonic()
        time.sleep(0.5)  # writes go on after the copy
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
        proc.stop()
    assert result.returncode == 0, result.stderr
    assert '"revision"' in result.stdout
    before = [sid for _, acked, sid in acknowledged if acked < started]
    during = [sid for sent, acked, sid in acknowledged if acked >= started and sent <= finished]
    after = [sid for sent, _, sid in acknowledged if sent > finished]
    assert len(before) >= 20 and after, (len(before), len(during), len(after))
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert not list(tmp_path.glob(".backup.db*")), "a partial file was left behind"

    # Restore: serve the copy itself as a new server's database.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    restored = serve(f"sqlite:///{backup}", restored_dir)
    try:
        with httpx.Client(base_url=restored.url, auth=(account.sid, token), timeout=30) as http:
            listed = http.get(f"{API}/Plugins", params={"PageSize": 1000})
            assert listed.status_code == 200
            present = {plugin["sid"] for plugin in listed.json()["plugins"]}
            while listed.json()["meta"]["next_page_url"]:
                listed = http.get(listed.json()["meta"]["next_page_url"])
                present |= {plugin["sid"] for plugin in listed.json()["plugins"]}
            missing = [sid for sid in before if sid not in present]
            assert not missing, f"{len(missing)} writes acknowledged before the backup began are missing"
            # A copy of one moment: nothing sent after the backup had finished is in it.
            assert not present & set(after)
            assert http.post(f"{API}/Plugins", data={"UniqueName": "after-restore"}).status_code == 201
    finally:
        restored.stop()


def test_backup_by_data_dir_refuses_what_it_cannot_copy(tmp_path: Path) -> None:
    data = tmp_path / "data"
    missing = run_backup(str(tmp_path / "b.db"), "--data-dir", str(data))
    assert missing.returncode == 1
    assert f"there is no database at {data / 'flexplugins.db'}" in missing.stderr
    assert not data.exists(), "a backup must not create the database it was asked to copy"

    db = Database(f"sqlite:///{tmp_path / 'data.db'}")
    db.upgrade()
    db.dispose()
    data.mkdir()
    (tmp_path / "data.db").rename(data / "flexplugins.db")
    first = run_backup(str(tmp_path / "b.db"), "--data-dir", str(data))
    assert first.returncode == 0, first.stderr
    again = run_backup(str(tmp_path / "b.db"), "--data-dir", str(data))
    assert again.returncode == 1 and "already exists" in again.stderr

    both = run_backup(str(tmp_path / "c.db"), "--data-dir", str(data), "--database", "sqlite:///x.db")
    assert both.returncode == 2 and "not both" in both.stderr


@pytest.mark.parametrize("url", ["postgresql://flex:hunter2@db.internal:5432/flexplugins", "postgres://db/fp"])
def test_backup_of_postgresql_says_to_use_pg_dump(tmp_path: Path, url: str) -> None:
    result = run_backup(str(tmp_path / "pg.dump"), "--database", url)
    assert result.returncode == 1
    assert "pg_dump --format=custom" in result.stderr
    assert "hunter2" not in result.stderr
    assert not (tmp_path / "pg.dump").exists()
