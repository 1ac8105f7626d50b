"""The in-memory storage adapter: real semantics (isolation, versions, gap-free numbers),
no persistence. Fast enough for unit tests of every business rule."""

from ticketkit.adapters.memory.unit_of_work import MemoryStorage, MemoryUnitOfWork

__all__ = ["MemoryStorage", "MemoryUnitOfWork"]
