"""gateway.outcome.decide: what a send's outcome does to its row (pure: no database)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from gateway.outcome import (
    POISON_ATTEMPTS,
    Fail,
    PauseSession,
    ReleaseUnattempted,
    Retry,
    Sent,
    decide,
)
from gateway.sending import Failure, SendError, SendResult, classify_text
from gateway.transport import INJECTED_TEXT, InjectedCrash
from outbox.engine import ClaimedMessage, ExpiredLeasePolicy

RESEND, HOLD = ExpiredLeasePolicy.RESEND, ExpiredLeasePolicy.HOLD
PAUSE = timedelta(minutes=30)
AT = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)


def claimed(attempts: int = 1) -> ClaimedMessage:
    return ClaimedMessage(
        id=7, recipient="6281234567890@s.whatsapp.net", content="halo", type="text",
        session_name="main", priority=0, attempts=attempts, max_attempts=5,
        claim_token=uuid.uuid4(), lease_expires_at=AT + timedelta(minutes=2))


def whatsapp(kind: str) -> SendError:
    """The error a transport raises for whatsmeow's error text of ``kind``."""
    text = INJECTED_TEXT[kind].format(recipient="6281234567890@s.whatsapp.net")
    return SendError(classify_text(text), text)


def test_a_send_that_returned_is_sent() -> None:
    action = decide(claimed(), SendResult("3EB0AB", AT), policy=RESEND, rate_limit_pause=PAUSE)
    assert action == Sent("3EB0AB", AT)
    assert not action.halts_batch


def test_a_permanent_failure_fails_the_row_with_the_reason() -> None:
    action = decide(claimed(), whatsapp("permanent"), policy=RESEND, rate_limit_pause=PAUSE)
    assert isinstance(action, Fail)
    assert action.reason.startswith("no LID found for 6281234567890")
    assert action.failure is Failure.PERMANENT and not action.delivery_unknown
    assert not action.halts_batch


@pytest.mark.parametrize("policy", [RESEND, HOLD])
def test_a_transient_failure_is_retried_with_backoff(policy: ExpiredLeasePolicy) -> None:
    action = decide(claimed(), whatsapp("transient"), policy=policy, rate_limit_pause=PAUSE)
    assert action == Retry(INJECTED_TEXT["transient"], Failure.TRANSIENT)
    assert action.delay is None  # the outbox's backoff


def test_throttling_pauses_the_session_and_halts_the_batch() -> None:
    action = decide(claimed(), whatsapp("pause"), policy=RESEND, rate_limit_pause=PAUSE)
    assert action == PauseSession(INJECTED_TEXT["pause"], PAUSE)
    assert action.halts_batch
    ban = SendError(Failure.PAUSE, "temporary ban", pause_for=timedelta(hours=2))
    assert decide(claimed(), ban, policy=RESEND, rate_limit_pause=PAUSE) == PauseSession(
        "temporary ban", timedelta(hours=2))  # the transport's own length wins


def test_not_connected_gives_the_row_back_unattempted() -> None:
    action = decide(claimed(), whatsapp("notready"), policy=RESEND, rate_limit_pause=PAUSE)
    assert action == ReleaseUnattempted(INJECTED_TEXT["notready"])
    assert action.halts_batch


def test_an_ambiguous_failure_follows_the_expired_lease_policy() -> None:
    resend = decide(claimed(), whatsapp("ambiguous"), policy=RESEND, rate_limit_pause=PAUSE)
    assert resend == Retry(INJECTED_TEXT["ambiguous"], Failure.AMBIGUOUS)
    hold = decide(claimed(), whatsapp("ambiguous"), policy=HOLD, rate_limit_pause=PAUSE)
    assert isinstance(hold, Fail) and hold.delivery_unknown
    assert hold.reason == ("delivery unknown: " + INJECTED_TEXT["ambiguous"]
                           + "; check with the recipient, then retry or cancel")
    assert hold.cause == INJECTED_TEXT["ambiguous"]


def test_an_unexpected_exception_is_retried_once_then_the_row_is_poison() -> None:
    crash = InjectedCrash("injected crash while sending outbox row 7")
    first = decide(claimed(1), crash, policy=RESEND, rate_limit_pause=PAUSE)
    assert first == Retry("InjectedCrash: injected crash while sending outbox row 7")
    again = decide(claimed(POISON_ATTEMPTS), crash, policy=RESEND, rate_limit_pause=PAUSE)
    assert again == Fail("poison row: the sender crashed on attempt 2: InjectedCrash: "
                         "injected crash while sending outbox row 7")
    # an unexpected exception whose text is a known WhatsApp error keeps that class
    timeout = TimeoutError("websocket not connected")
    assert isinstance(decide(claimed(3), timeout, policy=RESEND, rate_limit_pause=PAUSE),
                      ReleaseUnattempted)


def test_a_whatsapp_error_is_never_poison() -> None:
    action = decide(claimed(4), whatsapp("transient"), policy=RESEND, rate_limit_pause=PAUSE)
    assert isinstance(action, Retry)
