"""
Server-Sent Events frames as bytes, and reading them back.
"""

from __future__ import annotations

import orjson

from tryvoha.delivery.sse import PING, RETRY, parse_frames, snapshot_frame, sse_frame


def test_event_frame_has_id_kind_and_one_data_line() -> None:
    event = {"seq": 7, "kind": "alert.raised", "alert": {"note": "line one\nline two"}}
    frame = sse_frame(event, 7, "alert.raised")
    assert frame.startswith(b"id: 7\nevent: alert.raised\ndata: {")
    assert frame.endswith(b"}\n\n")
    assert frame.count(b"\n") == 4  # the note's newline stays escaped inside the JSON
    [parsed] = parse_frames(frame.decode())
    assert parsed["id"] == "7"
    assert orjson.loads(parsed["data"]) == event


def test_snapshot_frame_has_no_id() -> None:
    frame = snapshot_frame(12, [{"id": 3, "region_id": "31"}])
    [parsed] = parse_frames(frame.decode())
    assert parsed.keys() == {"event", "data"}
    assert orjson.loads(parsed["data"]) == {
        "last_seq": 12,
        "alerts": [{"id": 3, "region_id": "31"}],
    }


def test_parse_skips_comments_and_joins_data_lines() -> None:
    text = (RETRY + PING + b"id: 1\ndata: a\ndata: b\n\n").decode()
    assert parse_frames(text) == [{"retry": "2000"}, {"id": "1", "data": "a\nb"}]
