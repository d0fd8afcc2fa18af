"""Speech adapters: text-to-speech rendering and the command recognizers."""
