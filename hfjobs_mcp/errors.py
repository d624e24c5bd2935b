"""The exception tree: every error the product raises on purpose, each with what to do next.

::

    HfJobsError                      message + hint (what to do next); never holds a secret value
    ├── InvalidRequestError          bad input caught before anything was sent
    │   └── InvalidArgumentsError    arguments the tool's schema refuses: each field, what is expected
    ├── PolicyError                  refused by the secrets or spending policy; nothing was sent
    │   ├── MissingSecretsError      secret names with no value on the server's side
    │   ├── ConfirmationRequired     --confirm-via code: the user must approve first (plan and a code)
    │   └── ApprovalPending          an approval card is shown to the user; the call goes on once approved
    ├── TokenNotFoundError           no Hugging Face token could be found
    ├── TransportError               no HTTP response (connection refused, reset, timeout)
    ├── WaitTimeoutError             a wait ran out of time before the job got there
    └── ApiError                     the API answered with an error status
        ├── BadRequestError          400, 422: the server refused the request's content
        ├── UnauthorizedError        401: the token is missing, invalid or expired
        ├── PaymentRequiredError     402: no credits or no subscription
        ├── ForbiddenError           403: the token may not act on this namespace
        ├── NotFoundError            404: no such job, scheduled job or namespace
        ├── ConflictError            409: e.g. a scheduled run is still going
        ├── RateLimitedError         429: too many requests; ``retry_after`` seconds
        └── ServerError              5xx: the service failed

Tools turn every :class:`HfJobsError` into a result the model can act on (``isError``), using ``message`` and
``hint``; anything else is a bug and propagates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ApiError",
    "ApprovalPending",
    "ArgumentProblem",
    "BadRequestError",
    "ConfirmationRequired",
    "ConflictError",
    "ForbiddenError",
    "HfJobsError",
    "InvalidArgumentsError",
    "InvalidRequestError",
    "MissingSecretsError",
    "NotFoundError",
    "PaymentRequiredError",
    "PolicyError",
    "RateLimitedError",
    "ServerError",
    "TokenNotFoundError",
    "TransportError",
    "UnauthorizedError",
    "WaitTimeoutError",
]


class HfJobsError(Exception):
    """Base of the tree: a message and, where known, what to do next."""

    kind = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class InvalidRequestError(HfJobsError, ValueError):
    """Input the API would refuse, caught before sending: nothing was sent."""

    kind = "invalid_request"


@dataclass(frozen=True)
class ArgumentProblem:
    """One refused argument: where, what was given (shown short, never a secret), what is expected."""

    field: str
    given: str | None
    expected: str
    suggestion: str | None = None

    def line(self) -> str:
        got = f" (given {self.given})" if self.given is not None else ""
        if self.expected == "no such argument":
            said = f"`{self.field}`: unknown argument"
        else:
            said = f"`{self.field}`: {self.expected}{got}"
        return said + (f"; did you mean {self.suggestion!r}?" if self.suggestion else "")


class InvalidArgumentsError(InvalidRequestError):
    """Arguments the tool's own model refuses; ``problems`` lists each field. Nothing was sent."""

    kind = "invalid_arguments"

    def __init__(self, tool: str, problems: list[ArgumentProblem]) -> None:
        self.problems = problems
        head = f"{tool}: {len(problems)} argument problem{'s' if len(problems) != 1 else ''}; nothing was sent"
        super().__init__(
            head + "\n" + "\n".join(f"- {p.line()}" for p in problems),
            hint="fix these arguments and call again (the tool's input schema lists every argument)",
        )


class PolicyError(HfJobsError):
    """Refused by the secrets or spending policy: nothing was sent."""

    kind = "policy"


class MissingSecretsError(PolicyError):
    """Secret names that have no value where the server looks (its environment, secrets file, own token).

    The message names the entries by their place in ``secrets``, never by what they say: an entry with no value
    may be a password typed where a name belongs (``Hunter2Hunter2`` is a valid variable name).
    """

    kind = "missing_secrets"

    def __init__(self, names: Iterable[str], positions: Iterable[int] = ()) -> None:
        self.names = sorted(set(names))
        self.positions = sorted(set(positions))
        where = (
            ", ".join(f"secrets[{i}]" for i in self.positions)
            if self.positions
            else f"{len(self.names)} of the secret names"
        )
        super().__init__(
            f"no value on the server for {where}; nothing was sent",
            hint=(
                "check the spelling of those names; ask the user to set them in the MCP server's environment or "
                "its --secrets-file and restart it, or run without these secrets"
            ),
        )


class ConfirmationRequired(PolicyError):
    """The user must approve this request; ``plan`` says what, ``code`` lets the approved retry through."""

    kind = "confirmation_required"

    def __init__(self, message: str, *, hint: str, plan: Mapping[str, Any], code: str | None) -> None:
        super().__init__(message, hint=hint)
        self.plan = dict(plan)
        self.code = code


class ApprovalPending(PolicyError):
    """The user is shown an approval card (MCP Apps) for this request; nothing was sent yet.

    ``approval_id`` goes only into the result's ``_meta`` (for the card), never where the model reads.
    """

    kind = "approval_pending"

    def __init__(self, message: str, *, hint: str, plan: Mapping[str, Any], tool: str, approval_id: str) -> None:
        super().__init__(message, hint=hint)
        self.plan = dict(plan)
        self.tool = tool
        self.approval_id = approval_id


class TokenNotFoundError(HfJobsError):
    """No token in ``HF_TOKEN``, ``HUGGING_FACE_HUB_TOKEN``, ``HF_TOKEN_PATH`` or ``$HF_HOME/token``."""

    kind = "token_not_found"

    def __init__(self) -> None:
        super().__init__(
            "no Hugging Face token found",
            hint=(
                "set HF_TOKEN in the MCP server's environment, or run `hf auth login`; "
                "or use --local to rehearse on the local backend without a token"
            ),
        )


class TransportError(HfJobsError):
    """No usable HTTP response. ``maybe_sent`` is true when the request may have reached the server."""

    kind = "transport"

    def __init__(self, message: str, *, hint: str | None = None, maybe_sent: bool = False) -> None:
        super().__init__(message, hint=hint)
        self.maybe_sent = maybe_sent


class WaitTimeoutError(HfJobsError):
    """A wait reached its time limit before the job reached the wanted stage."""

    kind = "wait_timeout"


class ApiError(HfJobsError):
    """The API answered with an error status; ``server_message`` is what it said, ``request_id`` its trace id."""

    kind = "api"

    def __init__(
        self,
        message: str,
        *,
        status: int,
        hint: str | None = None,
        server_message: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.server_message = server_message
        self.request_id = request_id


class BadRequestError(ApiError):
    kind = "bad_request"


class UnauthorizedError(ApiError):
    kind = "unauthorized"


class PaymentRequiredError(ApiError):
    kind = "payment_required"


class ForbiddenError(ApiError):
    kind = "forbidden"


class NotFoundError(ApiError):
    kind = "not_found"


class ConflictError(ApiError):
    kind = "conflict"


class RateLimitedError(ApiError):
    kind = "rate_limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    kind = "server_error"
