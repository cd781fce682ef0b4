/* Compile-time checks that the installed libpurple headers still have the struct layouts the
 * checked-in Rust bindings (src/purple/ffi/bindings.rs) were generated from. build.rs compiles
 * this file, so header drift fails the build; src/purple/ffi/mod.rs asserts the same numbers on
 * the Rust side. Numbers are for LP64 targets (x86_64, aarch64). After `make bindings`, update
 * both places together. */
#include "purple-msnp.h"
#include <stddef.h>

#define SIZE(type, n) _Static_assert(sizeof(type) == (n), "sizeof(" #type ") changed: run make bindings")
#define OFFSET(type, field, n) \
	_Static_assert(offsetof(type, field) == (n), "offsetof(" #type ", " #field ") changed: run make bindings")

#if defined(__LP64__)
SIZE(PurplePluginInfo, 192);
OFFSET(PurplePluginInfo, id, 48);
OFFSET(PurplePluginInfo, load, 104);
OFFSET(PurplePluginInfo, extra_info, 136);
OFFSET(PurplePluginInfo, actions, 152);

SIZE(PurplePluginProtocolInfo, 648);
OFFSET(PurplePluginProtocolInfo, icon_spec, 24);
OFFSET(PurplePluginProtocolInfo, login, 128);
OFFSET(PurplePluginProtocolInfo, close, 136);
OFFSET(PurplePluginProtocolInfo, send_im, 144);
OFFSET(PurplePluginProtocolInfo, get_attention_types, 544);
OFFSET(PurplePluginProtocolInfo, struct_size, 552);
OFFSET(PurplePluginProtocolInfo, get_public_alias, 600);
OFFSET(PurplePluginProtocolInfo, get_cb_alias, 624);

SIZE(PurpleBuddyIconSpec, 40);
SIZE(PurplePlugin, 104);
OFFSET(PurplePlugin, info, 24);
SIZE(PurplePluginAction, 40);
OFFSET(PurplePluginAction, context, 24);
#else
#error "purple-msnp's ABI checks cover LP64 targets only"
#endif
