import sys

from voicetype.cli import main

sys.exit(main())
