//! Arbitrary bytes to the snapshot listing parser, and to the other answers osnap reads
//! about snapshots (a create's answer, `_cat/snapshots` rows). None may panic; a listing
//! that parses serialises back to one that parses to the same snapshots.
#![no_main]

use libfuzzer_sys::fuzz_target;
use snapshot_api::ApiError;
use snapshot_api::snapshot::{
    CatSnapshot, CreateSnapshotResponse, SnapshotInfo, parse_snapshot_list,
};

fuzz_target!(|data: &[u8]| {
    match parse_snapshot_list(data) {
        Ok(list) => {
            let again = serde_json::to_vec(&serde_json::json!({ "snapshots": list }))
                .expect("a parsed listing serialises");
            let reparsed: Vec<SnapshotInfo> =
                parse_snapshot_list(&again).expect("a re-serialised listing parses");
            assert_eq!(list, reparsed, "the round trip changed the listing");
        }
        Err(error) => {
            assert!(
                matches!(
                    error,
                    ApiError::Decode {
                        what: "snapshot listing",
                        ..
                    }
                ),
                "{error:?}"
            );
        }
    }
    if let Ok(CreateSnapshotResponse::Completed { snapshot }) =
        serde_json::from_slice::<CreateSnapshotResponse>(data)
    {
        let again = serde_json::to_vec(&snapshot).expect("a snapshot serialises");
        let reparsed: SnapshotInfo =
            serde_json::from_slice(&again).expect("a re-serialised snapshot parses");
        assert_eq!(*snapshot, reparsed, "the round trip changed the snapshot");
    }
    let _ = serde_json::from_slice::<Vec<CatSnapshot>>(data);
});
