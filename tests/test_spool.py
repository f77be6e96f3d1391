"""The local spool: batches span segments, and a segment is deleted only once consumed."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from plugin import spool as spool_module
from plugin.spool import Record, Spool


def _spool_sealed_one_by_one(tmp_path: Path, count: int) -> Spool:
    spool = Spool(tmp_path, "webhooks", fsync=False)
    for number in range(count):
        spool.append({"n": number})
        spool.close()  # sealed at once, as the webhook route does: one segment per record
    return spool


def test_replay_batches_records_across_segments(tmp_path: Path) -> None:
    # given 1,200 records in 1,200 segments
    spool = _spool_sealed_one_by_one(tmp_path, 1_200)
    batches: list[list[Record]] = []
    # when
    replayed = spool.replay(batches.append, batch_size=500)
    # then three calls instead of 1,200, every record once, in order, and nothing left
    assert replayed == 1_200
    assert [len(batch) for batch in batches] == [500, 500, 200]
    assert [record["n"] for batch in batches for record in batch] == list(range(1_200))
    assert spool.pending_segments() == 0


def test_a_failed_batch_leaves_its_segments_for_the_next_replay(tmp_path: Path) -> None:
    # given
    spool = _spool_sealed_one_by_one(tmp_path, 7)
    calls: list[int] = []

    def fails_second_time(batch: list[Record]) -> None:
        calls.append(len(batch))
        if len(calls) == 2:
            raise ConnectionError("database down")

    # when the second batch fails
    with pytest.raises(ConnectionError):
        spool.replay(fails_second_time, batch_size=3)
    # then only the first batch's segments are gone; the next replay sees the rest
    seen: list[int] = []
    spool.replay(lambda batch: seen.extend(record["n"] for record in batch), batch_size=3)
    assert calls == [3, 3]
    assert seen == [3, 4, 5, 6]


def test_a_record_written_to_a_segment_a_replay_just_took_is_written_again(
    tmp_path: Path,
) -> None:
    # given a writer whose open segment still takes records (segments last a minute), and a
    # replay by another process that sealed and consumed it while the writer was idle
    writer = Spool(tmp_path, "clicks", fsync=False, segment_seconds=60.0)
    writer.append({"n": 1})
    replayed: list[Record] = []
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=0.0)
    # when the writer appends again to the segment it still holds
    writer.append({"n": 2})
    writer.close()
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=0.0)
    # then the record went to a segment the next replay sees
    assert replayed == [{"n": 1}, {"n": 2}]


def test_a_segment_renamed_without_a_token_is_noticed_once_it_was_quiet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a writer, and its segment sealed by a replay whose token it cannot see (another
    # host of a shared volume): renamed, no new token
    monkeypatch.setattr(spool_module, "RECHECK_AFTER", 0.05)
    writer = Spool(tmp_path, "clicks", fsync=False, segment_seconds=60.0)
    writer.append({"n": 1})
    (segment,) = (tmp_path / "clicks").glob("*.open")
    segment.rename(segment.with_suffix(".ready"))
    replayed: list[Record] = []
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=None)
    # when the writer appends after the segment was quiet for RECHECK_AFTER
    time.sleep(0.1)
    writer.append({"n": 2})
    writer.close()
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=None)
    # then it looked, found the segment gone, and wrote the record again where a replay sees it
    assert replayed == [{"n": 1}, {"n": 2}]


def test_appends_in_a_burst_do_not_look_for_their_segment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a writer with an open segment and no seal since
    writer = Spool(tmp_path, "clicks", fsync=False, segment_seconds=60.0)
    writer.append({"n": 0})
    looked: list[object] = []
    real_exists = os.path.exists
    monkeypatch.setattr(
        spool_module.os.path, "exists", lambda path: looked.append(path) or real_exists(path)
    )
    # when it appends a burst of records
    for number in range(1, 200):
        writer.append({"n": number})
    writer.close()
    # then no append made a system call to check its segment, and nothing was lost
    assert looked == []
    replayed: list[Record] = []
    Spool(tmp_path, "clicks").replay(replayed.extend, include_open_older_than=None)
    assert replayed == [{"n": number} for number in range(200)]
