"""`cached_fact`: a property computed once per instance, as functools.cached_property, without its lock.

Python 3.11's cached_property holds one lock per property across every instance: while one
host's facts waited on that host (its Podman API forward, a probe of the files its stack
names), the same property of every other host waited too, and the suite probes its hosts
concurrently (run/probing.py). Python 3.12 dropped that lock; this is its behaviour there. A
host's facts are read by one thread at a time (its probe task, then the checks), so a fact
that waits on its host uses this one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


class cached_fact(Generic[T]):
    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> cached_fact[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> T | cached_fact[T]:
        if instance is None:
            return self
        # Stored under its own name: later reads find it in the instance and never come here.
        value = instance.__dict__[self.name] = self.function(instance)
        return value
