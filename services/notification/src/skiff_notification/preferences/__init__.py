"""What each user wants to be told, per category and channel, and one-click unsubscribe."""
