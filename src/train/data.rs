//! Fashion-MNIST in IDX format (gzip or plain), as Debian's `dataset-fashion-mnist` installs it.

use crate::error::InputError;
use crate::limits::{read_bounded, read_limited, too_big, MAX_IDX_BYTES};
use flate2::read::GzDecoder;
use std::path::{Path, PathBuf};

/// Where Debian's `dataset-fashion-mnist` package puts the files.
pub const DEFAULT_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// Per-pixel mean and standard deviation of the Fashion-MNIST training set (pixels in [0, 1]).
const MEAN: f32 = 0.2860;
const STD: f32 = 0.3530;

/// Images (normalised, 28 x 28, one channel) and their labels.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// n * 784 pixel values, (x/255 - mean) / std.
    pub images: Vec<f32>,
    /// n labels in 0..10.
    pub labels: Vec<u8>,
    /// Image height and width.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
}

impl Dataset {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The first `n` images (all when `n` is larger).
    pub fn truncated(mut self, n: usize) -> Dataset {
        let n = n.min(self.len());
        self.images.truncate(n * self.rows * self.cols);
        self.labels.truncate(n);
        self
    }
}

/// The training and test sets.
pub struct FashionMnist {
    /// 60,000 training images.
    pub train: Dataset,
    /// 10,000 test images.
    pub test: Dataset,
}

fn how_to_get(dir: &Path) -> String {
    format!(
        "Fashion-MNIST is expected in {} as train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, \
         t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzip or uncompressed). Install it with \
         `sudo apt-get install dataset-fashion-mnist` or pass --data DIR",
        dir.display()
    )
}

/// Reads `name` or `name.gz` from `dir`, decompressing as needed.
fn read_file(dir: &Path, name: &str) -> Result<(PathBuf, Vec<u8>), InputError> {
    let gz = dir.join(format!("{name}.gz"));
    let plain = dir.join(name);
    let (path, compressed) = if gz.exists() {
        (gz, true)
    } else if plain.exists() {
        (plain, false)
    } else {
        return Err(InputError::msg(format!("missing {}: {}", gz.display(), how_to_get(dir))));
    };
    let raw = read_bounded(&path, "IDX file", MAX_IDX_BYTES)?;
    let bytes = if compressed {
        read_limited(GzDecoder::new(&raw[..]), MAX_IDX_BYTES)
            .map_err(|e| {
                InputError::msg(format!("{} is not a valid gzip file ({e}): {}", path.display(), how_to_get(dir)))
            })?
            .ok_or_else(|| too_big("IDX file (decompressed)", &path, MAX_IDX_BYTES))?
    } else {
        raw
    };
    Ok((path, bytes))
}

/// Parses an IDX file with the given magic (0x801 labels, 0x803 images): its dimensions and payload.
pub fn parse_idx<'a>(path: &Path, bytes: &'a [u8], magic: u32) -> Result<(Vec<usize>, &'a [u8]), InputError> {
    let corrupt = |why: String| InputError::msg(format!("{} is not a valid IDX file: {why}", path.display()));
    let word =
        |i: usize| -> Option<u32> { bytes.get(4 * i..4 * i + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])) };
    let m = word(0).ok_or_else(|| corrupt(format!("{} bytes, shorter than its header", bytes.len())))?;
    if m != magic {
        return Err(corrupt(format!("magic number {m:#010x}, expected {magic:#010x}")));
    }
    let ndim = (magic & 0xFF) as usize;
    let dims: Vec<usize> = (1..=ndim)
        .map(|i| word(i).map(|d| d as usize).ok_or_else(|| corrupt("header cut short".into())))
        .collect::<Result<_, _>>()?;
    let payload = &bytes[4 * (ndim + 1)..];
    let want = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).unwrap_or(usize::MAX);
    if payload.len() != want {
        return Err(corrupt(format!("dimensions {dims:?} need {want} bytes of data, found {}", payload.len())));
    }
    Ok((dims, payload))
}

fn load_split(dir: &Path, images: &str, labels: &str) -> Result<Dataset, InputError> {
    let (ip, ib) = read_file(dir, images)?;
    let (idims, pixels) = parse_idx(&ip, &ib, 0x803)?;
    let (lp, lb) = read_file(dir, labels)?;
    let (ldims, labs) = parse_idx(&lp, &lb, 0x801)?;
    if idims[0] != ldims[0] {
        return Err(InputError::msg(format!(
            "{} holds {} images but {} holds {} labels",
            ip.display(),
            idims[0],
            lp.display(),
            ldims[0]
        )));
    }
    if let Some(&bad) = labs.iter().find(|&&l| l >= 10) {
        return Err(InputError::msg(format!("{} has label {bad}, allowed 0..=9", lp.display())));
    }
    Ok(Dataset {
        images: pixels.iter().map(|&p| (p as f32 / 255.0 - MEAN) / STD).collect(),
        labels: labs.to_vec(),
        rows: idims[1],
        cols: idims[2],
    })
}

/// Loads both splits from `dir` (default: [`DEFAULT_DIR`]).
pub fn load(dir: Option<&Path>) -> Result<FashionMnist, InputError> {
    let dir = dir.unwrap_or(Path::new(DEFAULT_DIR));
    if !dir.is_dir() {
        return Err(InputError::msg(format!("no directory {}: {}", dir.display(), how_to_get(dir))));
    }
    let train = load_split(dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte")?;
    let test = load_split(dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?;
    if (train.rows, train.cols) != (28, 28) || (test.rows, test.cols) != (28, 28) {
        return Err(InputError::msg(format!("{}: images must be 28 x 28, as in Fashion-MNIST", dir.display())));
    }
    if train.is_empty() || test.is_empty() {
        return Err(InputError::msg(format!(
            "{}: {} training and {} test images; both sets need at least one",
            dir.display(),
            train.len(),
            test.len()
        )));
    }
    Ok(FashionMnist { train, test })
}
