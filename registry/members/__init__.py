"""Members (the association's lenders and the association itself) and their API clients."""
