//! The audit trail against someone who can write the file: a cut tail, a
//! rewrite with every hash recomputed, a repeated key, time running
//! backwards, an empty file. The keyless chain catches edits; anchors kept
//! outside the store catch cuts and rewrites; signed checkpoints catch
//! rewrites of what they cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failure should panic

use chrono::{DateTime, TimeDelta, Utc};
use groupgate_core::Request;
use groupgate_core::audit::{
    Actor, Anchor, AuditError, AuditRecord, ChainHead, CheckpointKey, CheckpointVerifier, Entry,
    VerifyOptions, verify_trail,
};

fn at(minutes: i64) -> DateTime<Utc> {
    "2026-11-25T10:00:00Z".parse::<DateTime<Utc>>().unwrap() + TimeDelta::minutes(minutes)
}

fn request(ticket: &str) -> Request {
    serde_json::from_value(serde_json::json!({
        "ticket": ticket, "requester": "a@contoso.com", "target": "b@contoso.com", "resource": "x"
    }))
    .unwrap()
}

fn started(ticket: &str) -> Entry {
    Entry::Started {
        request: request(ticket),
        settings: Default::default(),
    }
}

/// Seals `entries` into a trail, with a signed checkpoint after every
/// `every` records when a key is given.
fn trail(entries: Vec<Entry>, key: Option<(&CheckpointKey, usize)>) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    let mut head: Option<ChainHead> = None;
    for (i, entry) in entries.into_iter().enumerate() {
        let r = AuditRecord::seal(
            head.as_ref(),
            at(i as i64),
            format!("T{i}").into(),
            Actor::System,
            entry,
        );
        head = Some(r.head());
        out.push(r);
        if let Some((key, every)) = key
            && (i + 1) % every == 0
        {
            let covered = out.last().unwrap().head();
            let (key_id, signature) = key.sign(covered.seq, &covered.hash);
            let c = AuditRecord::seal(
                head.as_ref(),
                at(i as i64),
                "audit".into(),
                Actor::System,
                Entry::Checkpoint {
                    covers: covered.seq,
                    covers_hash: covered.hash,
                    key_id,
                    signature,
                },
            );
            head = Some(c.head());
            out.push(c);
        }
    }
    out
}

fn text(records: &[AuditRecord]) -> String {
    records.iter().map(|r| r.to_json_line() + "\n").collect()
}

/// Rewrites record `at` (its ticket) and recomputes every hash after it, as
/// someone who can write the file but holds no key would.
fn rewrite(records: &[AuditRecord], at_seq: usize) -> Vec<AuditRecord> {
    let mut out: Vec<AuditRecord> = Vec::new();
    let mut head: Option<ChainHead> = None;
    for (i, r) in records.iter().enumerate() {
        let mut entry = r.entry.clone();
        if i == at_seq {
            entry = started("FORGED");
        }
        // A checkpoint is copied as it is (its signature cannot be remade).
        let sealed = AuditRecord::seal(
            head.as_ref(),
            r.at,
            r.workflow.clone(),
            r.actor.clone(),
            entry,
        );
        head = Some(sealed.head());
        out.push(sealed);
    }
    out
}

fn entries(n: usize) -> Vec<Entry> {
    (0..n).map(|i| started(&format!("RITM{i}"))).collect()
}

#[test]
fn an_empty_trail_proves_nothing() {
    assert_eq!(
        verify_trail("", &VerifyOptions::default()),
        Err(AuditError::Empty)
    );
    assert_eq!(
        verify_trail("\n\n", &VerifyOptions::default()),
        Err(AuditError::Empty)
    );
}

#[test]
fn a_cut_tail_is_caught_by_an_anchor_and_only_by_one() {
    let records = trail(entries(10), None);
    let anchor: Anchor = records[7].head().into();
    let full = text(&records);
    let with = VerifyOptions {
        anchors: vec![anchor.clone()],
        verifier: None,
    };
    assert_eq!(verify_trail(&full, &with).unwrap().anchors_checked, 1);
    let cut = text(&records[..6]);
    // Without the anchor the shorter trail looks intact: a keyless chain
    // cannot tell.
    assert!(verify_trail(&cut, &VerifyOptions::default()).is_ok());
    assert_eq!(
        verify_trail(&cut, &with),
        Err(AuditError::Truncated {
            anchor: 7,
            records: 6
        })
    );
}

#[test]
fn a_rewrite_with_recomputed_hashes_is_caught_by_an_anchor_and_by_a_signature() {
    let key = CheckpointKey::from_seed([9; 32]);
    let records = trail(entries(12), Some((&key, 4)));
    let full = text(&records);
    let verifier = CheckpointVerifier::from_text(&key.public_key_base64()).unwrap();
    let signed = VerifyOptions {
        anchors: vec![],
        verifier: Some(verifier.clone()),
    };
    let report = verify_trail(&full, &signed).unwrap();
    assert_eq!(report.checkpoints_verified, 3);
    assert_eq!(report.unsigned_tail, 0, "{report:?}");

    let forged = text(&rewrite(&records, 2));
    // The chain alone is fooled: every hash was recomputed.
    assert!(
        verify_trail(&forged, &VerifyOptions::default()).is_err(),
        "a copied checkpoint no longer covers its record"
    );
    // Without the checkpoints (stripped by the forger), the chain verifies,
    // but an anchor taken earlier does not.
    let stripped: Vec<AuditRecord> = records
        .iter()
        .filter(|r| !matches!(r.entry, Entry::Checkpoint { .. }))
        .cloned()
        .collect();
    let anchor: Anchor = stripped[5].head().into();
    let forged_stripped = text(&rewrite(&stripped, 2));
    assert!(verify_trail(&forged_stripped, &VerifyOptions::default()).is_ok());
    let err = verify_trail(
        &forged_stripped,
        &VerifyOptions {
            anchors: vec![anchor],
            verifier: None,
        },
    )
    .unwrap_err();
    assert!(matches!(err, AuditError::AnchorMismatch { .. }), "{err}");
    // ...and a public key requires a checkpoint the forger cannot make.
    let err = verify_trail(&forged_stripped, &signed).unwrap_err();
    assert!(matches!(err, AuditError::NoCheckpoint { .. }), "{err}");

    // A forger who recomputes the checkpoints' covered hashes breaks their signatures.
    let mut reforged: Vec<AuditRecord> = Vec::new();
    let mut head: Option<ChainHead> = None;
    for (i, r) in records.iter().enumerate() {
        let entry = match (&r.entry, i) {
            (_, 2) => started("FORGED"),
            (
                Entry::Checkpoint {
                    covers,
                    key_id,
                    signature,
                    ..
                },
                _,
            ) => Entry::Checkpoint {
                covers: *covers,
                covers_hash: reforged[*covers as usize].hash.clone(),
                key_id: key_id.clone(),
                signature: signature.clone(),
            },
            (e, _) => e.clone(),
        };
        let sealed = AuditRecord::seal(
            head.as_ref(),
            r.at,
            r.workflow.clone(),
            r.actor.clone(),
            entry,
        );
        head = Some(sealed.head());
        reforged.push(sealed);
    }
    let reforged = text(&reforged);
    assert!(
        verify_trail(&reforged, &VerifyOptions::default()).is_ok(),
        "structurally fine"
    );
    let err = verify_trail(&reforged, &signed).unwrap_err();
    assert!(
        err.to_string().contains("signature that does not verify"),
        "{err}"
    );
    // Another key's checkpoints are not taken for ours.
    let other =
        CheckpointVerifier::from_text(&CheckpointKey::from_seed([1; 32]).public_key_base64())
            .unwrap();
    let err = verify_trail(
        &full,
        &VerifyOptions {
            anchors: vec![],
            verifier: Some(other),
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("not by the given public key"),
        "{err}"
    );
}

#[test]
fn a_repeated_key_is_refused() {
    let records = trail(entries(3), None);
    let mut lines: Vec<String> = records.iter().map(AuditRecord::to_json_line).collect();
    // The same record with a second `workflow`: a parser that keeps the last
    // value would hash something else than what a reader sees first.
    lines[1] = lines[1].replacen("{", "{\"workflow\":\"T9\",", 1);
    let err = verify_trail(&(lines.join("\n") + "\n"), &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(&err, AuditError::Malformed { line: 2, message } if message.contains("duplicate key `workflow`")),
        "{err}"
    );
}

#[test]
fn time_running_backwards_is_refused() {
    let mut records = trail(entries(3), None);
    let mut head = Some(records[0].head());
    let mut fixed = vec![records.remove(0)];
    for (i, r) in records.into_iter().enumerate() {
        let when = if i == 0 { at(-30) } else { r.at };
        let sealed = AuditRecord::seal(head.as_ref(), when, r.workflow, r.actor, r.entry);
        head = Some(sealed.head());
        fixed.push(sealed);
    }
    let err = verify_trail(&text(&fixed), &VerifyOptions::default()).unwrap_err();
    assert!(
        matches!(err, AuditError::TimeWentBack { seq: 1, .. }),
        "{err}"
    );
}

#[test]
fn anchors_read_as_work_notes_write_them() {
    let records = trail(entries(2), None);
    let head = records[1].head();
    let note = format!("seq={} hash={}", head.seq, head.hash);
    assert_eq!(note.parse::<Anchor>().unwrap(), Anchor::from(head.clone()));
    assert_eq!(
        head.to_string().parse::<Anchor>().unwrap(),
        Anchor::from(head)
    );
    assert!("12:sha256:short".parse::<Anchor>().is_err());
    assert!("twelve:sha256:x".parse::<Anchor>().is_err());
}

#[test]
fn signing_keys_never_show_in_debug() {
    let key = CheckpointKey::from_seed([5; 32]);
    let debug = format!("{key:?}");
    assert!(!debug.contains(&key.seed_base64()), "{debug}");
    let round = CheckpointKey::from_text(&key.seed_base64()).unwrap();
    assert_eq!(round.public_key_base64(), key.public_key_base64());
    assert!(CheckpointKey::from_text("not a key").is_err());
    let err = CheckpointKey::from_text("c2hvcnQ=")
        .unwrap_err()
        .to_string();
    assert!(err.contains("5 bytes"), "{err}");
}
