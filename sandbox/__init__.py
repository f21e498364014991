"""A local stand-in for the X, Graph and YouTube APIs and an RSS feed, for the demo and the tests.

One module per platform (``x``, ``graph``, ``youtube``, ``feeds``); served only when SANDBOX_ENABLED.
"""
