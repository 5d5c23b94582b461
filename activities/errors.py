"""Where provider and store errors become Temporal failures.

Business failures (a provider refused the request, an unknown node) are non-retryable
`ApplicationError`s with a type the workflows match on; transient ones propagate unchanged so that
the activity's retry policy applies.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from temporalio.exceptions import ApplicationError

from integrations.http import PermanentProviderError
from store.ports import StoreError

PROVIDER_REJECTED = "ProviderRejected"
INVALID_DATA = "InvalidData"


@contextmanager
def classified_errors() -> Iterator[None]:
    try:
        yield
    except PermanentProviderError as err:
        raise ApplicationError(
            f"{err.provider} refused the request: {err}", type=PROVIDER_REJECTED, non_retryable=True
        ) from err
    except StoreError as err:
        raise ApplicationError(str(err), type=INVALID_DATA, non_retryable=True) from err
