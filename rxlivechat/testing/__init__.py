"""Testing with rxlivechat: the pytest plugin (its fixtures put the sandbox in tests).

This package sits above both the client and the sandbox and may import both;
neither imports it. Installing rxlivechat registers
:mod:`rxlivechat.testing.pytest_plugin` with pytest (a ``pytest11`` entry point).
"""
