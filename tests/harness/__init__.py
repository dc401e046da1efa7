"""Test harness: real services (Xvfb, PulseAudio, D-Bus, tray host) and fakes (speech)."""
