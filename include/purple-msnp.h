/* The libpurple API purple-msnp uses: the only header bindgen reads. */
#ifndef PURPLE_MSNP_H
#define PURPLE_MSNP_H

#define PURPLE_PLUGINS 1
#include <glib.h>
#include <libpurple/account.h>
#include <libpurple/accountopt.h>
#include <libpurple/blist.h>
#include <libpurple/connection.h>
#include <libpurple/core.h>
#include <libpurple/conversation.h>
#include <libpurple/debug.h>
#include <libpurple/eventloop.h>
#include <libpurple/network.h>
#include <libpurple/notify.h>
#include <libpurple/plugin.h>
#include <libpurple/privacy.h>
#include <libpurple/proxy.h>
#include <libpurple/prpl.h>
#include <libpurple/request.h>
#include <libpurple/smiley.h>
#include <libpurple/server.h>
#include <libpurple/status.h>
#include <libpurple/util.h>
#include <libpurple/version.h>

#endif
