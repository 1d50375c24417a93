//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the
//! migration folders at compile time, and cargo does not watch a folder for
//! new files unless told to.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
