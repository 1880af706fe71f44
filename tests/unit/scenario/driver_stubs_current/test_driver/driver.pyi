from pathlib import Path

class Driver:
    out_dir: Path
