"""The RapidAPI HTTP layer: one pooled httpx client per host, retries, limits, a budget.

- One ``httpx.Client`` per host (connection pooling, keep-alive), a per-host concurrency limit
  (a semaphore) and a per-run request budget per host.
- Every call has a deadline for the **whole** response (a server that trickles bytes forever
  hits it) and a size cap; the body is read in chunks and parsed as JSON once.
- Retries with tenacity: no response (connect/read timeout, connection reset, DNS), HTTP 5xx
  and HTTP 429 are retried ``retries`` times, waiting ``retry_base`` × 2^(n-1) seconds, or the
  server's ``Retry-After`` (capped) on a 429. Other 4xx, malformed JSON and an exhausted budget
  are not retried. A caller with a documented rule of its own (a likes page, a comment page)
  passes a :class:`RetryPolicy` instead; a 429's ``Retry-After`` and the budget hold for it too.
- The key travels only in the ``X-RapidAPI-Key`` header: no error text or log line carries it.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from producers.ingestion.settings import Endpoint, IngestionSettings

log = logging.getLogger(__name__)

Params = Mapping[str, str | int]


class ApiError(Exception):
    """A call that failed for good (after its retries). ``status`` is the HTTP status, or None
    when there was no usable response (``kind`` says why)."""

    def __init__(self, host: str, path: str, kind: str, status: int | None = None,
                 detail: str = "", retry_after: float | None = None) -> None:
        self.host, self.path, self.kind, self.status = host, path, kind, status
        self.retry_after = retry_after
        text = f"{host}{path}: {kind}" + (f" HTTP {status}" if status else "")
        super().__init__(text + (f" ({detail})" if detail else ""))

    @property
    def retryable(self) -> bool:
        return self.kind in ("timeout", "connection") or self.status == 429 or (
            self.status is not None and self.status >= 500)

    @property
    def auth(self) -> bool:
        return self.status in (401, 403)


class BudgetExhausted(ApiError):
    """The run's request budget (per host) or its time budget is used up."""


@dataclass(frozen=True)
class RetryPolicy:
    """How one kind of call is retried: ``attempts`` tries in all; after the n-th failed try
    (``retry(error)`` true) wait ``wait(n)`` seconds (a 429's ``Retry-After`` wins)."""

    attempts: int
    wait: Callable[[int], float]
    retry: Callable[[ApiError], bool]


def retryable(error: ApiError) -> bool:
    """No response, HTTP 5xx or 429: worth another try."""
    return error.retryable


@dataclass
class CallStats:
    calls: Counter[str] = field(default_factory=Counter)  # per host
    retries: Counter[str] = field(default_factory=Counter)
    fallbacks: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, counter: Counter[str], host: str) -> None:
        with self.lock:
            counter[host] += 1

    def total(self, counter: Counter[str]) -> int:
        with self.lock:
            return sum(counter.values())


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class RapidApi:
    """The HTTP side of one ingestion run (create per run; :meth:`close` at the end)."""

    def __init__(self, settings: IngestionSettings, *, sleep: Callable[[float], None] = time.sleep,
                 deadline: float | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        self.sleep = sleep
        self.deadline = deadline  # time.monotonic() after which no call starts
        self.stats = CallStats()
        self._transport = transport
        self._clients: dict[str, httpx.Client] = {}
        self._limits: dict[str, threading.BoundedSemaphore] = {}
        self._used: Counter[str] = Counter()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ plumbing
    def _client(self, endpoint: Endpoint) -> tuple[httpx.Client, threading.BoundedSemaphore]:
        with self._lock:
            client = self._clients.get(endpoint.base_url + "|" + endpoint.host)
            if client is None:
                n = self.settings.host_concurrency
                client = httpx.Client(
                    base_url=endpoint.base_url,
                    timeout=httpx.Timeout(self.settings.timeout),
                    limits=httpx.Limits(max_connections=n, max_keepalive_connections=n),
                    transport=self._transport,
                    headers={"x-cache-control": "no-cache"},
                )
                self._clients[endpoint.base_url + "|" + endpoint.host] = client
                self._limits[endpoint.host] = threading.BoundedSemaphore(n)
            return client, self._limits[endpoint.host]

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> RapidApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _charge(self, endpoint: Endpoint, path: str) -> None:
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise BudgetExhausted(endpoint.host, path, "run time budget used up")
        with self._lock:
            if self._used[endpoint.host] >= self.settings.request_budget:
                raise BudgetExhausted(endpoint.host, path, "request budget used up",
                                      detail=f"{self.settings.request_budget} calls")
            self._used[endpoint.host] += 1

    # ------------------------------------------------------------------ one attempt
    def _attempt(self, endpoint: Endpoint, path: str, params: Params) -> Any:
        self._charge(endpoint, path)
        client, limit = self._client(endpoint)
        headers = {"X-RapidAPI-Key": endpoint.key, "X-RapidAPI-Host": endpoint.host}
        started = time.monotonic()
        limit_ = self.settings.max_response_bytes
        with limit:
            self.stats.add(self.stats.calls, endpoint.host)
            try:
                with client.stream("GET", path, params=dict(params), headers=headers) as resp:
                    if resp.status_code >= 400:
                        raise ApiError(endpoint.host, path, "http", resp.status_code,
                                       retry_after=_retry_after(resp.headers.get("retry-after")))
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in resp.iter_bytes():
                        size += len(chunk)
                        if size > limit_:
                            raise ApiError(endpoint.host, path, "too large",
                                           detail=f"more than {limit_} bytes")
                        if time.monotonic() - started > self.settings.timeout:
                            raise ApiError(endpoint.host, path, "timeout",
                                           detail="the response did not end in time")
                        chunks.append(chunk)
            except httpx.TimeoutException as exc:
                raise ApiError(endpoint.host, path, "timeout", detail=type(exc).__name__) from None
            except httpx.TransportError as exc:
                raise ApiError(endpoint.host, path, "connection",
                               detail=type(exc).__name__) from None
        body = b"".join(chunks)
        del chunks
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(endpoint.host, path, "malformed JSON", detail=_short(str(exc))) from None

    # ------------------------------------------------------------------ with retries
    @property
    def default_policy(self) -> RetryPolicy:
        base = self.settings.retry_base
        return RetryPolicy(self.settings.retries + 1, lambda n: base * 2 ** (n - 1), retryable)

    def get(self, endpoint: Endpoint, path: str, params: Params,
            policy: RetryPolicy | None = None) -> Any:
        """GET ``path`` on ``endpoint`` and return the parsed JSON body (retries included:
        ``policy``, else ``RAPIDAPI_RETRIES`` for no response, 5xx and 429)."""
        rule = policy if policy is not None else self.default_policy

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome is not None else None
            if isinstance(exc, ApiError) and exc.status == 429 and exc.retry_after is not None:
                return min(exc.retry_after, self.settings.retry_after_max)
            return float(rule.wait(state.attempt_number))

        def before_sleep(state: RetryCallState) -> None:
            self.stats.add(self.stats.retries, endpoint.host)
            exc = state.outcome.exception() if state.outcome is not None else None
            log.debug("retrying %s%s after %s", endpoint.host, path, exc)

        retrying = Retrying(
            stop=stop_after_attempt(max(1, rule.attempts)),
            wait=wait,
            retry=retry_if_exception(lambda e: isinstance(e, ApiError)
                                     and not isinstance(e, BudgetExhausted) and rule.retry(e)),
            sleep=self.sleep,
            before_sleep=before_sleep,
            reraise=True,
        )
        return retrying(self._attempt, endpoint, path, params)

    def fallback_used(self, host: str) -> None:
        self.stats.add(self.stats.fallbacks, host)
