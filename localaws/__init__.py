"""Test infrastructure: moto's AWS emulator plus a fidelity layer that closes the gaps which
would otherwise make our tests lie (see ../shared/notes/moto-gaps.md). Not shipped with the
provider."""
