//! The costly artefacts of a world, made once and shared by many runs of one scenario
//! (`cucmsim explore` runs hundreds): the manufacturing CA, each cluster's install-time PKI
//! and every phone's MIC. Each is a pure function of the seed, the epoch and its definition,
//! so a memoised copy has the same bytes as a fresh one and no trace changes. (Private keys
//! are already memoised process-wide by `KeyForge`; this keeps the certificates signed with
//! them.)
//!
//! ```text
//!  run_shared(spec, &Prebuilt) ──mfg / cluster_pki / mic──► memo hit: a clone
//!                                                         └► miss: made, kept, cloned
//!  run(spec) = run_shared(spec, &Prebuilt::default())  (nothing shared)
//! ```

use super::spec::ClusterDef;
use cucmsim_core::pki::cluster::ClusterPki;
use cucmsim_core::pki::mic::ManufacturingCa;
use cucmsim_core::pki::{Identity, KeyForge, KeyProfile};
use cucmsim_core::WallTime;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Memoised world artefacts; share one across runs (threads included) with an `Arc`.
#[derive(Default)]
pub struct Prebuilt {
    mfg: Mutex<HashMap<String, Arc<ManufacturingCa>>>,
    pkis: Mutex<HashMap<String, ClusterPki>>,
    mics: Mutex<HashMap<String, Identity>>,
}

impl Prebuilt {
    /// The manufacturing CA of `forge`'s seed, issued at `at`.
    pub fn mfg(&self, forge: &KeyForge, at: WallTime) -> Result<Arc<ManufacturingCa>, String> {
        let key = format!("{}|{at:?}", forge.seed());
        let mut memo = self.mfg.lock().map_err(|_| "prebuilt world poisoned")?;
        if let Some(m) = memo.get(&key) {
            return Ok(m.clone());
        }
        let m = Arc::new(ManufacturingCa::new(forge, at).map_err(|e| e.to_string())?);
        memo.insert(key, m.clone());
        Ok(m)
    }

    /// Cluster `c`'s install-time PKI, made by `make` on a miss. Keyed by the seed, the
    /// install time and the whole cluster definition.
    pub(super) fn cluster_pki(
        &self,
        forge: &KeyForge,
        install: WallTime,
        c: &ClusterDef,
        make: impl FnOnce() -> Result<ClusterPki, String>,
    ) -> Result<ClusterPki, String> {
        let key = format!("{}|{install:?}|{c:?}", forge.seed());
        if let Some(p) = self
            .pkis
            .lock()
            .map_err(|_| "prebuilt world poisoned")?
            .get(&key)
        {
            return Ok(p.clone());
        }
        let pki = make()?;
        self.pkis
            .lock()
            .map_err(|_| "prebuilt world poisoned")?
            .insert(key, pki.clone());
        Ok(pki)
    }

    /// The MIC of phone `mac` of `model`, issued by `mfg` at `at`.
    pub(super) fn mic(
        &self,
        forge: &KeyForge,
        mfg: &ManufacturingCa,
        (model, mac, profile): (&str, &str, KeyProfile),
        at: WallTime,
    ) -> Result<Identity, String> {
        let key = format!("{}|{at:?}|{model}|{mac}|{}", forge.seed(), profile.name());
        if let Some(m) = self
            .mics
            .lock()
            .map_err(|_| "prebuilt world poisoned")?
            .get(&key)
        {
            return Ok(m.clone());
        }
        let mic = mfg
            .issue_mic(forge, model, mac, profile, at)
            .map_err(|e| format!("MIC for {mac}: {e}"))?;
        self.mics
            .lock()
            .map_err(|_| "prebuilt world poisoned")?
            .insert(key, mic.clone());
        Ok(mic)
    }
}
