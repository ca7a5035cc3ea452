"""At-least-once delivery: the ``commit`` operator that ends an async pipeline.

With ``auto_commit=True`` (the default) an event is committed once every
subscriber of the SDK returned from it. A pipeline that hands the work on
(``observe_on``, ``flat_map`` over a coroutine...) returns before the work is
done, so it should run with ``auto_commit=False`` and commit at its end:

.. code-block:: python

    sdk.pipe(
        ops.filter(lambda e: e[0] == "new_event"),
        ops.map(lambda e: e[1]),
        ops.flat_map(lambda new: rx.from_future(asyncio.ensure_future(save(new)))
                     .pipe(ops.map(lambda _: new))),
        rxlivechat.commit(sdk),
    ).subscribe()
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, overload

from reactivex import Observable, abc
from reactivex.disposable import Disposable

if TYPE_CHECKING:
    from .sdk import CustomerSDK

__all__ = ["commit"]

T = TypeVar("T")


def _itself(item: Any) -> Any:
    return item


@overload
def commit(sdk: CustomerSDK) -> Callable[[Observable[T]], Observable[T]]: ...


@overload
def commit(
    sdk: CustomerSDK, event_of: Callable[[T], Any]
) -> Callable[[Observable[T]], Observable[T]]: ...


def commit(
    sdk: CustomerSDK, event_of: Callable[[T], Any] = _itself
) -> Callable[[Observable[T]], Observable[T]]:
    """An operator that commits each item's event once downstream handled it.

    Items pass through unchanged; after the observer downstream returned from
    an item, its event is committed (see :meth:`CustomerSDK.commit`).

    Args:
        sdk: the SDK the events came from (made with ``auto_commit=False``).
        event_of: what to commit for an item: by default the item itself (a
            :class:`~rxlivechat.NewEvent` or the ``("new_event", NewEvent)``
            pair); give a function when the pipeline carries something else.
    """

    def operator(source: Observable[T]) -> Observable[T]:
        def subscribe(
            observer: abc.ObserverBase[T], scheduler: abc.SchedulerBase | None = None
        ) -> abc.DisposableBase:
            def on_next(item: T) -> None:
                observer.on_next(item)
                sdk.commit(event_of(item))

            subscription = source.subscribe(
                on_next, observer.on_error, observer.on_completed, scheduler=scheduler
            )
            return Disposable(subscription.dispose)

        return Observable(subscribe)

    return operator
