"""LeRobot v3's parquet files, written with pyarrow (LeRobot itself goes through `datasets` and pandas).

LeRobot reads the frames with `datasets.Dataset.from_parquet`, cast to the features of
meta/info.json, so each column has the arrow type `datasets` gives its feature: a scalar for shape
(1,), a fixed-size list for a vector (`List(length=n)`), nested lists for a 2-D array (the storage
of `Array2D`). It reads meta/tasks.parquet with pandas, which makes the task strings the index
from the "pandas" schema metadata written here, as `DataFrame.to_parquet` would.
"""

import json
from pathlib import Path

import numpy as np

from hab_aux.export.features import Feature
from hab_aux.export.files import DATA_FILES_SIZE_IN_MB, DATA_PATH, FileSeries


def column(feature: Feature, values: np.ndarray):
    """One feature's values in one episode, (T, *shape) or (T,) for a scalar, as an arrow array."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    flat = pa.array(values.reshape(-1))
    if feature.shape == (1,):
        return flat
    if len(feature.shape) == 1:
        return pa.FixedSizeListArray.from_arrays(flat, feature.shape[0])
    rows, (height, width) = len(values), feature.shape
    pixel_rows = pa.ListArray.from_arrays(pa.array(np.arange(rows * height + 1, dtype=np.int32) * width), flat)
    return pa.ListArray.from_arrays(pa.array(np.arange(rows + 1, dtype=np.int32) * height), pixel_rows)


class DataWriter:
    """Every episode's frames into data/chunk-XXX/file-YYY.parquet, one row group per episode."""

    def __init__(self, root: Path):
        self.files = FileSeries(root, DATA_PATH, DATA_FILES_SIZE_IN_MB)
        self._writer = None

    def add_episode(self, table) -> dict:
        """Append one episode's table; return its `data/...` location."""
        import pyarrow.parquet as pq

        if self._writer is not None and self.files.full():
            self.close()
            self.files.advance()
        if self._writer is None:
            self.files.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.files.path, table.schema, compression="snappy")
        self._writer.write_table(table)
        return {"chunk_index": self.files.chunk_index, "file_index": self.files.file_index}

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def write_tasks(path: Path, tasks: list[str]) -> None:
    """meta/tasks.parquet: `task_index` per task, the task strings as the (pandas) index."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    index = "__index_level_0__"
    pandas = {
        "index_columns": [index],
        "column_indexes": [],
        "columns": [
            {"name": "task_index", "field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": None},
            {"name": None, "field_name": index, "pandas_type": "unicode", "numpy_type": "object", "metadata": None},
        ],
        "pandas_version": "2.2.0",
    }
    table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), index: pa.array(tasks, pa.string())})
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table.replace_schema_metadata({"pandas": json.dumps(pandas)}), path)


def write_rows(path: Path, rows: list[dict]) -> None:
    """A parquet file of one row per dict (meta/episodes); arrow infers the column types."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path, compression="snappy")
