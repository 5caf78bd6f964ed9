"""``python -m encryption``: the envelope tool (keygen, encrypt, decrypt, header, rotate, rewrap)."""
from lab.cli import run_main

from encryption.cli import main

run_main(main)
