"""
An alert's chain of CAP messages: event messages, renewals, identifiers, references.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.cap.chains import T0, full_chain, lifted, raised, updated
from tryvoha.core.cap import (
    ALL_CLEAR_LIFETIME,
    LIFETIME,
    RENEW_EVERY,
    CapError,
    Issue,
    MsgType,
    check_chain,
    current_issue,
    earlier_issues,
    is_issued,
    parse_identifier,
)
from tryvoha.core.model import AlertLevel

SENDER = "alerts.example.org"


def test_each_event_kind_has_its_message_type() -> None:
    chain = full_chain()
    assert [Issue(e).msg_type for e in chain] == [MsgType.ALERT, MsgType.UPDATE, MsgType.CANCEL]
    assert Issue(chain[0], 1).msg_type is MsgType.UPDATE


def test_identifiers_name_sender_time_seq_and_renewal() -> None:
    first = raised(5)
    assert Issue(first).identifier(SENDER) == f"{SENDER}:20250703T212200-5"
    assert Issue(first, 2).identifier(SENDER) == f"{SENDER}:20250704T032200-5-2"
    parsed = parse_identifier(SENDER, Issue(first, 2).identifier(SENDER))
    assert parsed is not None
    assert (parsed.seq, parsed.renewal, parsed.stamp) == (5, 2, "20250704T032200")


@pytest.mark.parametrize(
    "identifier",
    [
        pytest.param("other.org:20250703T212200-5", id="other-sender"),
        pytest.param(f"{SENDER}:20250703T212200-0", id="seq-zero"),
        pytest.param(f"{SENDER}:20250703T212200-5-0", id="renewal-zero"),
        pytest.param(f"{SENDER}:2025-07-03-5", id="bad-stamp"),
        pytest.param(f"{SENDER}:20250703T212200-x", id="not-a-number"),
        pytest.param("20250703T212200-5", id="no-sender"),
        pytest.param(f"{SENDER}:20250703T212200-{10**20}", id="seq-beyond-64-bits"),
        pytest.param(f"{SENDER}:20250703T212200-5-{10**7}", id="renewal-beyond-any-date"),
    ],
)
def test_foreign_identifiers_are_not_parsed(identifier: str) -> None:
    assert parse_identifier(SENDER, identifier) is None


def test_messages_expire_after_their_lifetime() -> None:
    chain = full_chain()
    assert Issue(chain[0]).expires - Issue(chain[0]).sent == LIFETIME
    assert Issue(chain[2]).expires - Issue(chain[2]).sent == ALL_CLEAR_LIFETIME
    assert Issue(chain[0]).sent.microsecond == 0


def test_the_current_message_is_renewed_while_the_alert_lasts() -> None:
    chain = [raised(5)]
    assert current_issue(chain, T0) == Issue(chain[0])
    assert current_issue(chain, T0 + RENEW_EVERY - timedelta(seconds=1)).renewal == 0
    assert current_issue(chain, T0 + RENEW_EVERY).renewal == 1
    later = T0 + 7 * RENEW_EVERY + timedelta(minutes=5)
    issue = current_issue(chain, later)
    assert issue.renewal == 7
    # The message in force never has less than LIFETIME - RENEW_EVERY left.
    assert issue.expires - later >= LIFETIME - RENEW_EVERY - timedelta(minutes=5)


def test_a_lifted_alert_is_never_renewed() -> None:
    chain = full_chain()
    far = chain[-1].at + 10 * RENEW_EVERY
    assert current_issue(chain, far) == Issue(chain[-1])
    assert not is_issued(chain, Issue(chain[-1], 1), far)


def test_renewals_exist_only_between_events_and_up_to_now() -> None:
    chain = full_chain()  # the update comes 4 h after the raise
    now = chain[-1].at
    assert is_issued(chain, Issue(chain[0], 1), now)
    assert not is_issued(chain, Issue(chain[0], 2), now)  # 6 h: after the update
    assert is_issued(chain, Issue(chain[1], 2), now)  # update + 6 h < lift at update + 7 h
    assert not is_issued(chain, Issue(chain[1], 3), now)
    early = chain[0].at + RENEW_EVERY - timedelta(seconds=1)
    assert not is_issued(chain[:1], Issue(chain[0], 1), early)
    stranger = raised(99)
    assert not is_issued(chain, Issue(stranger), now)


def test_references_list_every_earlier_message_still_in_force() -> None:
    chain = full_chain()
    now = chain[-1].at
    issued = sorted(
        (
            Issue(event, renewal)
            for event in chain
            for renewal in range(4)
            if is_issued(chain, Issue(event, renewal), now)
        ),
        key=lambda issue: issue.at,
    )
    assert [(i.event.seq, i.renewal) for i in issued] == [
        (5, 0),
        (5, 1),
        (9, 0),
        (9, 1),
        (9, 2),
        (12, 0),
    ]
    for position, issue in enumerate(issued):
        referred = earlier_issues(chain, issue)
        prior = issued[:position]
        assert set(referred) <= set(prior)
        assert all(i in referred for i in prior if i.renewal == 0)
        assert all(i in referred for i in prior if i.expires > issue.sent)
        assert issue not in referred
        assert all(i.sent <= issue.sent for i in referred)
    cancel = earlier_issues(chain, issued[-1])
    assert [(i.event.seq, i.renewal) for i in cancel] == [(5, 0), (9, 0), (9, 1), (9, 2)]


def test_a_malformed_chain_is_refused() -> None:
    first = raised(5)
    with pytest.raises(CapError):
        check_chain([])
    with pytest.raises(CapError):
        check_chain([updated(first, 6, T0, level=AlertLevel.WARNING)])
    with pytest.raises(CapError):
        check_chain([first, raised(7)])
    gone = lifted(first, 6, T0)
    with pytest.raises(CapError):
        check_chain([first, gone, updated(gone, 7, T0, level=AlertLevel.WARNING)])
