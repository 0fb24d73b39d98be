//! Random JSON values for the property tests of every backend's conversion.

use proptest::prelude::*;

use super::Json;

/// Arrays and objects (up to 4 levels, 64 values) built from `leaf` values.
pub(super) fn nested(
    leaf: impl Strategy<Value = Json> + Clone + 'static,
) -> impl Strategy<Value = Json> {
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
            prop::collection::btree_map("[a-z]{0,6}", inner, 0..6)
                .prop_map(|map| Json::Object(map.into_iter().collect())),
        ]
    })
}

/// Booleans, floats, strings and integers from `integers`.
pub(super) fn scalars(
    integers: impl Strategy<Value = i64> + Clone + 'static,
) -> impl Strategy<Value = Json> + Clone {
    prop_oneof![
        any::<bool>().prop_map(Json::Bool),
        integers.prop_map(Json::from),
        (-1e12f64..1e12).prop_map(Json::from),
        "\\PC{0,12}".prop_map(Json::from),
    ]
}
