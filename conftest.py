"""Load the harness pytest plugin (options --opset, --provider, --records; fixtures)."""

pytest_plugins = ["harness.pytest_plugin"]
