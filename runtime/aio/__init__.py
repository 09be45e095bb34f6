"""The asyncio layer over the protocol core: a peer that reads, dispatches, answers and awaits."""
