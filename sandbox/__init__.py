"""A local stand-in for the X, Graph and YouTube APIs and an RSS feed, for the demo and the tests."""
