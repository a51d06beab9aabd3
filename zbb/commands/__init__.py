"""One module per CLI verb: HELP (one line), EXAMPLES (list of command lines), add_arguments, run."""
