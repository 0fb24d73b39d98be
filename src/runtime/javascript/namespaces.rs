//! What makes the API's objects strict: every namespace (`modhost.storage`, `game.world`) is
//! frozen, with a prototype that answers a member it does not have with an error naming the
//! closest one; `modhost.mod` and `modhost.settings` are read-only views whose writes throw,
//! naming what was written (a frozen object ignores them in a script).
//!
//! The two proxies are JavaScript, compiled once per process: the misses' prototype is read
//! and run by every mod as it starts (the prelude), the read-only views when the mod first
//! reads `modhost.mod` or `modhost.settings`. The rest is done here, natively: a namespace
//! walked, frozen and given its prototype from JavaScript was a twelfth of starting a mod.

use rquickjs::{Array, Ctx, Function, Object, Value};

use super::bytecode::CompiledOnce;

/// Makes the misses' prototype, defines `modhost.mod` and `modhost.settings` on the `modhost`
/// object (getters: the views are made when first read, and the host can swap in new
/// settings), and returns `[the symbol naming a namespace's path, the misses' prototype, the
/// function that replaces the settings]`. Hits never reach the prototype: they are plain
/// property reads.
static PRELUDE: CompiledOnce = CompiledOnce::new(
    r#"(function (modhost, info, settings, missingMember, views) {
    const PATH = Symbol('modhost namespace');
    const misses = new Proxy(Object.create(null), {
        get(_, key, namespace) {
            if (typeof key === 'symbol' || key === 'then' || key === 'toJSON' || key in Object.prototype) {
                return Object.prototype[key];
            }
            throw new TypeError(missingMember(namespace[PATH], String(key), Object.keys(namespace)));
        },
    });
    let readOnly, infoView, settingsNow = settings, settingsView;
    const view = (value, path) => (readOnly ??= views())(value, path);
    Object.defineProperty(modhost, 'mod', {
        get: () => (infoView ??= view(info, 'modhost.mod')),
        enumerable: true,
    });
    Object.defineProperty(modhost, 'settings', {
        get: () => (settingsView ??= view(settingsNow, 'modhost.settings')),
        enumerable: true,
    });
    return [PATH, misses, (next) => { settingsNow = next; settingsView = undefined; }];
})"#,
);

/// The read-only views, made the first time a mod reads `modhost.mod` or `modhost.settings`
/// (most mods read neither): evaluates to `readOnly(value, path)`, which gives a value's view,
/// the same one each time. One handler serves every view; a view's path is kept by the object
/// it shows.
static VIEWS: CompiledOnce = CompiledOnce::new(
    r#"(function () {
    const views = new WeakMap();
    const paths = new WeakMap();
    const refuse = (target, key) => { throw new TypeError(`${paths.get(target)}.${String(key)} is read-only`); };
    const handler = {
        get(target, key) {
            const member = target[key];
            return member !== null && typeof member === 'object' ? readOnly(member, `${paths.get(target)}.${String(key)}`) : member;
        },
        set: refuse,
        defineProperty: refuse,
        deleteProperty: refuse,
        setPrototypeOf(target) { throw new TypeError(`${paths.get(target)} is read-only`); },
    };
    const readOnly = (value, path) => {
        if (value === null || typeof value !== 'object') return value;
        const known = views.get(value);
        if (known) return known;
        paths.set(value, path);
        const view = new Proxy(value, handler);
        views.set(value, view);
        return view;
    };
    return readOnly;
})()"#,
);

/// The prelude's work in one mod's context.
pub(super) struct Strict<'js> {
    /// The symbol under which a namespace keeps its path, for the misses' message.
    path: Value<'js>,
    /// The prototype of every namespace.
    misses: Object<'js>,
    /// Replaces `modhost.settings`.
    pub(super) settings_updater: Function<'js>,
}

impl<'js> Strict<'js> {
    /// Runs the prelude on `modhost`, which gets `mod` (`info`) and `settings`.
    pub(super) fn prepare(
        ctx: &Ctx<'js>,
        modhost: &Object<'js>,
        info: Value<'js>,
        settings: Value<'js>,
    ) -> rquickjs::Result<Strict<'js>> {
        let missing_member = Function::new(
            ctx.clone(),
            |path: String, key: String, members: Vec<String>| {
                crate::suggest::missing_member(&path, &key, members.iter().map(String::as_str))
            },
        )?;
        let views = Function::new(ctx.clone(), |ctx: Ctx<'js>| VIEWS.eval::<Function>(&ctx))?;
        let prelude: Function = PRELUDE.eval(ctx)?;
        let made: Array = prelude.call((modhost.clone(), info, settings, missing_member, views))?;
        Ok(Strict {
            path: made.get(0)?,
            misses: made.get(1)?,
            settings_updater: made.get(2)?,
        })
    }

    /// Makes `namespace` (named `path`) strict and frozen.
    pub(super) fn apply(&self, namespace: &Object<'js>, path: &str) -> rquickjs::Result<()> {
        namespace.prop(self.path.clone(), path)?;
        namespace.set_prototype(Some(&self.misses))?;
        let ctx = namespace.ctx();
        // SAFETY: `namespace` is a live object of this context.
        let frozen =
            unsafe { rquickjs::qjs::JS_FreezeObject(ctx.as_raw().as_ptr(), namespace.as_raw()) };
        if frozen < 0 {
            return Err(rquickjs::Error::Exception);
        }
        Ok(())
    }

    /// Makes `namespace` strict and frozen, and every namespace in it (the game's global,
    /// whose tree comes from the game's API).
    pub(super) fn apply_all_the_way_down(
        &self,
        namespace: &Object<'js>,
        path: &str,
    ) -> rquickjs::Result<()> {
        for key in namespace.keys::<String>() {
            let key = key?;
            let member: Value = namespace.get(&key)?;
            if !member.is_function()
                && let Some(inner) = member.into_object()
            {
                self.apply_all_the_way_down(&inner, &format!("{path}.{key}"))?;
            }
        }
        self.apply(namespace, path)
    }
}
