"""What a send's outcome does to its row: a pure function, no database, no clock, no logging.

:func:`decide` takes the claimed row and what the send gave (a :class:`~gateway.sending.SendResult`
or the exception it raised) and returns one action; gateway/settle.py carries it out.

=================================  ============================================================
the send                           the action
=================================  ============================================================
returned                           :class:`Sent` (settled in a batch)
``PERMANENT`` failure              :class:`Fail` with the reason
an unexpected exception that       :class:`Fail`: a poison row (``POISON_ATTEMPTS``), so the
crashed it again                   recipient's later rows go on
``PAUSE`` (WhatsApp throttles)     :class:`PauseSession`: the row back unattempted after the
                                   pause, the whole session paused, the batch halted
``NOT_READY`` (not connected)      :class:`ReleaseUnattempted`: the row back, the batch halted
``AMBIGUOUS`` under the hold       :class:`Fail` as "delivery unknown" for an operator
policy
``TRANSIENT``, or ``AMBIGUOUS``    :class:`Retry` with the outbox's backoff (or failed there
under the resend policy            when the attempts are used up)
=================================  ============================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.sending import Failure, SendError, SendResult, classify
from outbox.engine import ClaimedMessage, ExpiredLeasePolicy

# An unexpected exception (not a WhatsApp error) is retried once; on a later attempt the row is
# treated as poison and fails.
POISON_ATTEMPTS = 2


@dataclass(frozen=True)
class Sent:
    wa_message_id: str | None
    sent_at: datetime | None = None

    halts_batch = False


@dataclass(frozen=True)
class Retry:
    """Back to pending after the outbox's backoff (``delay`` overrides it); failed instead when
    the attempts are used up (the database decides, under the claim token)."""

    reason: str
    failure: Failure = Failure.TRANSIENT
    delay: timedelta | None = None

    halts_batch = False


@dataclass(frozen=True)
class Fail:
    """Failed for good; ``reason`` becomes the row's ``last_error``. ``failure`` is
    ``AMBIGUOUS`` when the message may have been delivered (``cause`` is then what happened)."""

    reason: str
    failure: Failure = Failure.PERMANENT
    cause: str = ""

    halts_batch = False

    @property
    def delivery_unknown(self) -> bool:
        return self.failure is Failure.AMBIGUOUS


@dataclass(frozen=True)
class PauseSession:
    """WhatsApp throttles the session: the row goes back (unattempted) for ``pause_for``, the
    session pauses as long, and the rest of the batch is given back."""

    reason: str
    pause_for: timedelta
    failure: Failure = Failure.PAUSE

    halts_batch = True


@dataclass(frozen=True)
class ReleaseUnattempted:
    """The session is not connected: the row goes back at once, its attempt not counted, and the
    rest of the batch is given back."""

    reason: str
    failure: Failure = Failure.NOT_READY

    halts_batch = True


Action = Sent | Retry | Fail | PauseSession | ReleaseUnattempted


def decide(msg: ClaimedMessage, result: SendResult | BaseException, *,
           policy: ExpiredLeasePolicy, rate_limit_pause: timedelta) -> Action:
    """The action for ``msg`` after its send returned ``result`` or raised it."""
    if isinstance(result, SendResult):
        return Sent(result.wa_message_id, result.sent_at)
    error = classify(result)
    if (not isinstance(result, SendError) and msg.attempts >= POISON_ATTEMPTS
            and error.failure is Failure.TRANSIENT):
        # it crashed the sender again: a poison row, failed so that the recipient's later rows
        # (held back by the per-recipient order) go on
        return Fail(f"poison row: the sender crashed on attempt {msg.attempts}: {error.reason}")
    if error.failure is Failure.PERMANENT:
        return Fail(error.reason)
    if error.failure is Failure.PAUSE:
        return PauseSession(error.reason, error.pause_for or rate_limit_pause)
    if error.failure is Failure.NOT_READY:
        return ReleaseUnattempted(error.reason)
    if error.failure is Failure.AMBIGUOUS and policy is ExpiredLeasePolicy.HOLD:
        return Fail("delivery unknown: " + error.reason
                    + "; check with the recipient, then retry or cancel", Failure.AMBIGUOUS,
                    cause=error.reason)
    return Retry(error.reason, error.failure)
