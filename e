podmedic run: unknown flag --confg (did you mean --config?)
Run 'podmedic run --help' for usage.
