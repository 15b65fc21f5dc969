"""Developer tools run from a source checkout (not installed): profiling, output comparison."""
