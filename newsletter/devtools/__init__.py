"""Development-only pieces: the mail catcher and the `newsletter dev` runner."""
