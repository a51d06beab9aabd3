"""The claim bank and build recipes (data, not logic); shipped inside the wheel as ``zbb.builders``."""
