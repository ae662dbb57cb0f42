"""The outbox: unique keys, dead letters, disk policy, and atomic commits that survive kill -9."""
import json
import random
import signal
import subprocess
import sys
import time

from helpers import wait_until

from edge_bridge.buffer import Outbox


def envelope(key, type_name="machine.counter"):
    return {"key": key, "type": type_name, "schema_version": 1, "source": "EDGE-T1",
            "occurred_at": "2024-01-01T00:00:00+00:00", "payload": {"pad": "x" * 200}}


def test_re_emitted_keys_are_no_ops(tmp_path):
    outbox = Outbox(tmp_path / "b.db")
    assert outbox.commit([envelope("a"), envelope("b")]) == 2
    assert outbox.commit([envelope("b"), envelope("c")]) == 1
    assert [row.key for row in outbox.fetch_pending(10)] == ["a", "b", "c"]
    assert outbox.pending_count() == 3


def test_critical_events_are_fetched_first(tmp_path):
    outbox = Outbox(tmp_path / "b.db")
    outbox.commit([envelope("slow-1"), envelope("alarm", "machine.alarm"), envelope("slow-2")],
                  critical_of=lambda e: e["type"] == "machine.alarm")
    assert [row.key for row in outbox.fetch_pending(10)] == ["alarm", "slow-1", "slow-2"]


def test_rejected_rows_go_to_dead_letter_and_can_be_replayed(tmp_path):
    outbox = Outbox(tmp_path / "b.db")
    outbox.commit([envelope("a"), envelope("b"), envelope("c")])
    rows = outbox.fetch_pending(10)
    outbox.record_result(rows, [{"index": 1, "key": "b", "error": "unknown work center"}])
    status = outbox.status()
    assert (status["pending"], status["rejected"], status["delivered_retained"]) == (0, 1, 2)
    dead = outbox.dead_letters()
    assert dead[0]["key"] == "b" and dead[0]["reason"] == "unknown work center"
    assert outbox.replay_dead_letters() == 1
    assert [row.key for row in outbox.fetch_pending(10)] == ["b"]
    assert outbox.status()["rejected"] == 0


def test_state_checkpoints_and_input_dead_letters_commit_together(tmp_path):
    outbox = Outbox(tmp_path / "b.db")
    outbox.commit([envelope("a")], states={"M1": {"n": 1}}, checkpoints={"http:cursor": 42},
                  input_dead_letters=[("mes", "{garbage", "malformed")])
    reopened = Outbox(tmp_path / "b.db")
    assert reopened.load_states() == {"M1": {"n": 1}}
    assert reopened.checkpoint("http:cursor") == 42
    assert reopened.status()["input_dead_letters"] == 1 and reopened.pending_count() == 1


def test_full_buffer_drops_delivered_rows_first_and_never_pending(tmp_path):
    outbox = Outbox(tmp_path / "b.db", max_bytes=400_000, on_full="drop_oldest_delivered")
    outbox.commit([envelope(f"d{i}") for i in range(1500)])
    outbox.record_result(outbox.fetch_pending(1500), [])
    assert outbox.used_bytes() >= 400_000
    assert outbox.make_room()                         # delivered rows went
    outbox.commit([envelope(f"p{i}") for i in range(1500)])
    assert not outbox.make_room()                     # only pending left: refuse new data
    assert outbox.pending_count() == 1500


def test_reject_new_policy_keeps_delivered_rows(tmp_path):
    outbox = Outbox(tmp_path / "b.db", max_bytes=400_000, on_full="reject_new")
    outbox.commit([envelope(f"d{i}") for i in range(1500)])
    outbox.record_result(outbox.fetch_pending(1500), [])
    assert not outbox.make_room()
    assert outbox.status()["delivered_retained"] == 1500


def test_retention_prunes_delivered_rows(tmp_path):
    outbox = Outbox(tmp_path / "b.db")
    outbox.commit([envelope("a"), envelope("b")])
    outbox.record_result(outbox.fetch_pending(1), [])
    assert outbox.prune_delivered(retention_s=0) == 1
    assert outbox.status()["pending"] == 1


WRITER = """
import sys
from edge_bridge.buffer import Outbox
outbox = Outbox(sys.argv[1])
n = outbox.load_states().get("writer", {"n": 0})["n"]
while True:
    batch = [{"key": f"k{n + i}", "type": "machine.counter", "payload": {}} for i in range(1, 51)]
    n += 50
    outbox.commit(batch, states={"writer": {"n": n}})
    print(n, flush=True)
"""


def test_kill_9_never_separates_events_from_the_state_they_came_from(tmp_path):
    path = str(tmp_path / "b.db")
    rng = random.Random(3)
    for _ in range(5):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE, text=True)
        wait_until(lambda writer=writer: writer.stdout.readline(), 10, "writer progress")
        time.sleep(rng.uniform(0.01, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait(5)
        outbox = Outbox(path)
        n = outbox.load_states()["writer"]["n"]
        keys = [row.key for row in outbox.fetch_pending(10**7)]
        assert len(keys) == n and keys[-1] == f"k{n}"      # nothing lost, nothing extra
        outbox.close()
    assert json.loads(json.dumps(n)) > 0


# -- dead letters have their own bound (issue 8) ----------------------------------------------
def test_dead_letters_are_bounded_oldest_dropped_with_a_counter(tmp_path):
    dropped = []
    outbox = Outbox(tmp_path / "b.db", dead_letter_max=5)
    outbox.on_dead_letters_dropped = dropped.append
    for n in range(4):
        outbox.commit([], input_dead_letters=[("mes", f"raw-{n}-{i}", "malformed") for i in range(2)])
    kept = [d["body"] for d in outbox.dead_letters()]
    assert kept == ["raw-1-1", "raw-2-0", "raw-2-1", "raw-3-0", "raw-3-1"]
    assert sum(dropped) == 3 and outbox.status()["dead_letters_dropped"] == 3


def test_dropping_a_sink_dead_letter_drops_its_dead_outbox_row_too(tmp_path):
    outbox = Outbox(tmp_path / "b.db", dead_letter_max=2)
    outbox.commit([envelope(f"k{i}") for i in range(4)])
    rows = outbox.fetch_pending(4)
    outbox.record_result(rows, [{"index": i, "key": f"k{i}", "error": "refused"} for i in range(4)])
    assert [d["key"] for d in outbox.dead_letters()] == ["k2", "k3"]
    assert outbox.status()["rejected"] == 2
    assert outbox._db.execute("SELECT count(*) FROM outbox WHERE state='dead'").fetchone()[0] == 2


def test_dead_letters_never_make_the_buffer_hold_back_new_data(tmp_path):
    outbox = Outbox(tmp_path / "b.db", max_bytes=256 * 1024, dead_letter_max=100_000)
    junk = "x" * 2000
    for _ in range(10):                                  # ~2 MB of dead letters, 8x the budget
        outbox.commit([], input_dead_letters=[("mes", junk, "malformed")] * 100)
    assert outbox.used_bytes() > outbox.max_bytes
    assert outbox.make_room() is True
    assert outbox.commit([envelope("still-welcome")]) == 1
