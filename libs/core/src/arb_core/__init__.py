"""What every cexarb package shares and nothing else: the error root (``errors``) and the
asyncio task helpers (``tasks``). Standard library only, so a venue adapter that imports it
pulls in no Redis client, no event-loop policy and no settings machinery."""
