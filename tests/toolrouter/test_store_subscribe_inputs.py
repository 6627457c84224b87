"""``Store.on_new_attempts`` refuses a callback it cannot call, naming it: the PostgreSQL store kept
``None`` and dropped it silently at the first notification, and kept any other value, failing on it
(``subscriber_failed``) at every notification; the embedded stores took anything."""

from __future__ import annotations

import pytest

from toolrouter.store import Store


@pytest.mark.parametrize("callback", [None, 42, "sync"])
def test_a_callback_that_cannot_be_called_is_refused_naming_it(store: Store, callback: object) -> None:
    with pytest.raises(TypeError, match="^callback: expected a function of the last attempt id, got "):
        store.on_new_attempts(callback)  # type: ignore[arg-type]
    heard: list[int] = []
    store.on_new_attempts(heard.append)()  # a callable one is taken, and cancelled
