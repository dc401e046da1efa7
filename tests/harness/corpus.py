"""The exactness corpus shared by the typing tests on X11 and Wayland (accents, €, CJK,
emoji with ZWJ and skin tones, flags, RTL, combining marks, tabs, line breaks)."""

from __future__ import annotations

MIXED = (
    "Grüße aus Köln: 5 € für Straße & Café — naïve façade. "
    "日本語のテキスト 😀👍🏽 👩‍👩‍👧 🇫🇷🇩🇪 שלום مرحبا"
)

CORPUS = [
    "hello",
    "Hello, World!",
    "The quick brown fox jumps over the lazy dog.",
    "THE QUICK BROWN FOX 0123456789",
    "~`!@#$%^&*()-_=+[]{}\\|;:'\",.<>/?",
    "ctrl+c",
    "<ctrl>+<alt>+x",
    "Alt+F4 then Super+L",
    "^C ^D ^Z",
    "[A[B[C",
    "%s {0} $HOME `rm -rf`",
    "café crème brûlée",
    "naïve façade résumé",
    "Grüße, Straße, Fuß",
    "ß ẞ",
    "ÀÉÎÕÜ àéîõü ÿ",
    "Ångström Øresund Æble",
    "Price: 5 € or £4 or ¥600 or ₹350",
    "½ ¼ ¾ ± × ÷ ° µ ¶ § © ® ™",
    "“quoted” ‘single’ «guillemets» – — …",
    "Łódź Žluťoučký kůň Ğüş",
    "Ελληνικά κείμενο",
    "Русский текст, Ёё",
    "日本語のテキスト",
    "中文文本，标点。",
    "한국어 텍스트",
    "ภาษาไทย",
    "हिन्दी पाठ",
    "שלום עולם",
    "مرحبا بالعالم",
    "mixed עברית and English",
    "😀😃😄😁",
    "👍🏽 👋🏿",
    "👩‍👩‍👧‍👦 👨‍💻 🏳️‍🌈",
    "🇫🇷🇩🇪🇯🇵🇺🇸",
    "❤️ ✔️ ☃",
    "e\u0301 combining acute, n\u0303",
    "zero\u200bwidth\u200cjoiners\u200d",
    "line one\nline two\nline three",
    "\tindented\n\t\tdouble\n",
    "col1\tcol2\tcol3",
    "trailing spaces   ",
    "   leading spaces",
    "\n\nblank lines\n\n",
    "a" * 300,
    "".join(chr(0x4E00 + i) for i in range(120)),
    MIXED,
]


def long_text(n: int = 5000) -> str:
    words = ["Dictation", "works", "well:", "Grüße", "5 €,", "日本,", "😀", "naïve", "line\n"]
    out, i = "", 0
    while len(out) < n:
        out += words[i % len(words)] + " "
        i += 1
    return out[:n]


#: Five sentences for the recording-mode tests: what the service answers, and what is
#: spoken into the microphone (the WAV) with pauses between them.
FIVE = (
    "Hello world.",
    "How are you today?",
    "The weather is fine.",
    "Let us write some code.",
    "Goodbye for now.",
)
SPOKEN = (
    "hello world",
    "how are you today",
    "the weather is fine",
    "let us write some code",
    "goodbye for now",
)
