//! SCRAM credentials: stored per user and mechanism, replaced, deleted,
//! and refused when malformed.

use floe_metadata::{MetadataError, ScramCredential};

use crate::backends::Backend;

fn credential(user: &str, mechanism: &str, fill: u8) -> ScramCredential {
    let len = if mechanism == "SCRAM-SHA-256" { 32 } else { 64 };
    ScramCredential {
        user: user.to_string(),
        mechanism: mechanism.to_string(),
        salt: vec![fill; 16],
        stored_key: vec![fill; len],
        server_key: vec![fill.wrapping_add(1); len],
        iterations: 4096,
    }
}

pub async fn scram_credentials_are_stored_replaced_and_deleted(
    backend: &dyn Backend,
) -> anyhow::Result<()> {
    let store = backend.open().await?;
    assert!(store.scram_credentials(None).await?.is_empty());
    let alice256 = credential("alice", "SCRAM-SHA-256", 1);
    let alice512 = credential("alice", "SCRAM-SHA-512", 2);
    let bob = credential("bob", "SCRAM-SHA-512", 3);
    for c in [&bob, &alice512, &alice256] {
        store.upsert_scram_credential(c).await?;
    }
    assert_eq!(
        store.scram_credentials(None).await?,
        vec![alice256.clone(), alice512.clone(), bob.clone()]
    );
    assert_eq!(
        store.scram_credentials(Some("alice")).await?,
        vec![alice256.clone(), alice512.clone()]
    );
    // A new password replaces the credential of its mechanism only.
    let renewed = ScramCredential {
        iterations: 8192,
        ..credential("alice", "SCRAM-SHA-512", 9)
    };
    store.upsert_scram_credential(&renewed).await?;
    let other = backend.open().await?;
    assert_eq!(
        other.scram_credentials(Some("alice")).await?,
        vec![alice256, renewed]
    );
    assert_eq!(
        store
            .delete_scram_credential("alice", Some("SCRAM-SHA-256"))
            .await?,
        1
    );
    assert_eq!(store.delete_scram_credential("alice", None).await?, 1);
    assert_eq!(store.delete_scram_credential("alice", None).await?, 0);
    assert_eq!(store.scram_credentials(None).await?, vec![bob]);
    Ok(())
}

pub async fn malformed_scram_credentials_are_refused(backend: &dyn Backend) -> anyhow::Result<()> {
    let store = backend.open().await?;
    let good = credential("carol", "SCRAM-SHA-256", 1);
    for bad in [
        ScramCredential {
            user: String::new(),
            ..good.clone()
        },
        ScramCredential {
            mechanism: "SCRAM-SHA-1".into(),
            ..good.clone()
        },
        ScramCredential {
            iterations: 4095,
            ..good.clone()
        },
        ScramCredential {
            stored_key: vec![0; 64],
            ..good.clone()
        },
    ] {
        let refused = store.upsert_scram_credential(&bad).await;
        assert!(
            matches!(refused, Err(MetadataError::Invalid(_))),
            "{bad:?}: {refused:?}"
        );
    }
    assert!(store.scram_credentials(None).await?.is_empty());
    Ok(())
}
