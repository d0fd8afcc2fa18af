"""Audio adapters: frames, files, sounddevice devices and the simulated room."""
