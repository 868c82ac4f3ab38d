"""The demo district's data files (Zhongyuan District, Zhengzhou)."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
TAXONOMY_PATH = DATA_DIR / "taxonomy.yaml"
GAZETTEER_PATH = DATA_DIR / "gazetteer.yaml"
CORPUS_DIR = DATA_DIR / "corpus"
