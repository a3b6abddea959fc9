//! A pulled document made ready to store: its blobs loaded into an automerge document
//! (what each one brought, and which do not decode) and its cached rows worked out, all
//! without the database. The writer then only stores it ([`Writer::merge_prepared`]).
//!
//! A document this device does not hold yet needs nothing from the store, so a new
//! device's first pull prepares a page's new documents on every core while the write
//! lock is free, instead of one by one inside the write: opening, loading and projecting
//! a document is most of a first pull's work (docs/PERFORMANCE.md, "Sync cost").
//!
//! [`Writer::merge_prepared`]: super::writer::Writer::merge_prepared

use automerge::{Automerge, ReadDoc};
use logbook_crypto::AUTOMERGE_MAGIC;

use super::cache::{self, Projection};
use super::documents::{self, DocKind};
use crate::error::Result;

pub(crate) struct Prepared {
    /// The document with every accepted blob merged; `None` once its rows are read
    /// (a new punch document: dropping it costs as much as a fifth of its loading, which
    /// is better spent on the preparing thread than on the write's, and a first pull
    /// would only evict it from the document cache again).
    pub doc: Option<Automerge>,
    /// Indices of the blobs that brought something new, in order.
    pub accepted: Vec<usize>,
    /// Indices of the blobs that are not automerge, or that automerge refused.
    pub undecodable: Vec<usize>,
    /// The document's cached rows, or why its feature cannot read it.
    pub projection: Result<Projection>,
    /// Prepared as new to this device (from nothing but its blobs).
    pub new: bool,
}

impl Prepared {
    pub(crate) fn new(
        doc_id: &str,
        mut doc: Automerge,
        accepted: Vec<usize>,
        undecodable: Vec<usize>,
        new: bool,
    ) -> Result<Prepared> {
        let projection = if accepted.is_empty() {
            Ok(Projection::Nothing)
        } else {
            if new {
                documents::ensure_genesis(DocKind::of(doc_id)?, &mut doc)?;
            }
            cache::project(doc_id, &doc)
        };
        let keep = !(new && cache::complete(&projection));
        Ok(Prepared {
            doc: keep.then_some(doc),
            accepted,
            undecodable,
            projection,
            new,
        })
    }
}

/// Prepare a document this device does not hold from its pulled blobs. It starts empty
/// rather than from its genesis, so its first blob takes automerge's whole-document load
/// path (several times cheaper than applying the same bytes as changes onto the genesis);
/// the genesis is merged after, if the blobs lack it.
pub(crate) fn prepare_new(doc_id: &str, blobs: &[Vec<u8>]) -> Result<Prepared> {
    DocKind::of(doc_id)?;
    let mut doc = Automerge::new();
    let (accepted, undecodable) = load_blobs(&mut doc, blobs, || Ok(Automerge::new()))?;
    Prepared::new(doc_id, doc, accepted, undecodable, true)
}

/// Load `blobs` into `doc` one by one. Returns the indices of those that brought
/// something new (or wait for a missing dependency), and of those that do not decode:
/// after one of these, `doc` is rebuilt from `start()` and the blobs accepted so far.
pub(crate) fn load_blobs(
    doc: &mut Automerge,
    blobs: &[Vec<u8>],
    mut start: impl FnMut() -> Result<Automerge>,
) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut accepted = Vec::new();
    let mut undecodable = Vec::new();
    for (i, blob) in blobs.iter().enumerate() {
        let before = doc.get_heads();
        // automerge skips bytes it cannot parse without an error, so a blob that is not
        // automerge at all is recognised by its missing magic number.
        if !blob.starts_with(&AUTOMERGE_MAGIC) || doc.load_incremental(blob).is_err() {
            undecodable.push(i);
            *doc = start()?;
            for &j in &accepted {
                let earlier: &Vec<u8> = &blobs[j];
                doc.load_incremental(earlier)?;
            }
            continue;
        }
        if doc.get_heads() != before || !doc.get_missing_deps(&[]).is_empty() {
            accepted.push(i);
        }
    }
    Ok((accepted, undecodable))
}
