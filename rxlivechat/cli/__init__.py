"""The command line's jobs: the demo and the tail.

``rxlivechat.__main__`` parses the arguments; the sandbox's own job is
``rxlivechat.sandbox.cli``.
"""
