"""voicetype: press a hotkey, speak, and the words are typed into the focused window."""

__version__ = "0.1.0"
