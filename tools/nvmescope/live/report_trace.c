// SPDX-License-Identifier: GPL-2.0
/*
 * report_trace.c - "nvmescope trace": one block per command, its steps in
 * the order they happened, each with the time since the command started
 * and since the previous step.
 */
#include <stdlib.h>
#include <string.h>

#include "tool.h"
#include "live/collect.h"
#include "core/json.h"
#include "live/live.h"
#include "core/sysfs.h"

struct trace {
	const struct options *o;
	struct collector *c;
	long printed;
	__u64 first_ts;		/* timestamps print relative to the first command */
};

/* The steps a command has, sorted by time (ties keep the causal order). */
static unsigned int sorted_steps(const struct ns_cmd *cmd, enum ns_step *order)
{
	unsigned int n = 0, i, k;

	for (i = 0; i < NS_STEP_COUNT; i++) {
		if (!cmd->ts[i])
			continue;
		k = n++;
		while (k > 0 && cmd->ts[order[k - 1]] > cmd->ts[i]) {
			order[k] = order[k - 1];
			k--;
		}
		order[k] = i;
	}
	return n;
}

/*
 * A polled command (poll queue): its irq step is the poll that found it.
 * tnvme's programs mark it; the stock driver has no poll event, so its
 * commands take their queue's type (its "irq" there is a poll's reap).
 */
static enum ns_qtype cmd_qtype(const struct trace *t, const struct ns_cmd *cmd)
{
	if (cmd->polled)
		return NS_QTYPE_POLL;
	return collector_queue_type(t->c, cmd->ctrl, cmd->qid) == NS_QTYPE_POLL ?
	       NS_QTYPE_POLL : NS_QTYPE_IRQ;
}

static void step_detail(const struct ns_cmd *cmd, bool polled, enum ns_step s,
			char *buf, size_t len)
{
	buf[0] = '\0';
	switch (s) {
	case NS_STEP_RQ_START:
		snprintf(buf, len, "%s %u bytes on cpu %u", opcode_name(cmd->qid, cmd->opcode),
			 cmd->bytes, cmd->submit_cpu);
		break;
	case NS_STEP_SQ_WRITE:
		snprintf(buf, len, "sq slot %u, slba %llu, %u blocks", cmd->sq_slot,
			 (unsigned long long)cmd->slba, cmd->nlb);
		break;
	case NS_STEP_SQ_DOORBELL:
		snprintf(buf, len, "covers %u command(s)", cmd->sq_doorbell_cmds);
		break;
	case NS_STEP_IRQ:
		snprintf(buf, len, "%s on cpu %u", polled ? "poll" : "handler",
			 cmd->irq_cpu);
		break;
	case NS_STEP_CQE:
		snprintf(buf, len, "cq slot %u, status 0x%x", cmd->cq_slot, cmd->status);
		break;
	case NS_STEP_FETCH:
		snprintf(buf, len, "controller's SQ head %u", cmd->sq_head);
		break;
	case NS_STEP_RQ_END:
		snprintf(buf, len, "on cpu %u, status 0x%x", cmd->complete_cpu, cmd->status);
		break;
	case NS_STEP_CQ_DOORBELL:
		snprintf(buf, len, "covers %u CQE(s)", cmd->cq_doorbell_cqes);
		break;
	default:
		break;
	}
}

static void print_text(struct trace *t, const struct ns_cmd *cmd)
{
	enum ns_step order[NS_STEP_COUNT];
	unsigned int n = sorted_steps(cmd, order), i;
	enum ns_qtype type = cmd_qtype(t, cmd);
	char label[32];
	__u64 start;

	if (!n)
		return;
	start = cmd->ts[order[0]];
	if (!t->first_ts)
		t->first_ts = start;
	ctrl_label(cmd->driver, cmd->ctrl, label, sizeof(label));
	printf("%s q%u cid %u %s\n", label, cmd->qid, cmd->cid,
	       opcode_name(cmd->qid, cmd->opcode));
	printf("  %12s %10s %10s  %-12s %s\n", "TIME(us)", "+START", "+PREV", "EVENT", "DETAIL");
	for (i = 0; i < n; i++) {
		__u64 ts = cmd->ts[order[i]];
		char detail[96];

		step_detail(cmd, type == NS_QTYPE_POLL, order[i], detail, sizeof(detail));
		printf("  %12.3f %10.3f %10.3f  %-12s %s\n", (ts - t->first_ts) / 1e3,
		       (ts - start) / 1e3, i ? (ts - cmd->ts[order[i - 1]]) / 1e3 : 0.0,
		       step_name_for(order[i], type), detail);
	}
	for (i = 0; i < NS_STEP_COUNT; i++)
		if (!step_visible(cmd->driver, i))
			break;
	if (i < NS_STEP_COUNT)
		printf("  (not visible with the %s driver: sq_write, sq_doorbell, cq_doorbell, dma_map, dma_unmap, cqe, fetch)\n",
		       driver_name(cmd->driver));
	putchar('\n');
	fflush(stdout);
}

static void print_json(struct trace *t, const struct ns_cmd *cmd)
{
	enum ns_step order[NS_STEP_COUNT];
	unsigned int n = sorted_steps(cmd, order), i;
	enum ns_qtype type = cmd_qtype(t, cmd);
	struct json j;
	char label[32];

	if (!n)
		return;
	if (!t->first_ts)
		t->first_ts = cmd->ts[order[0]];
	ctrl_label(cmd->driver, cmd->ctrl, label, sizeof(label));
	json_init(&j, stdout);
	json_object_begin(&j, NULL);
	json_string(&j, "report", "trace");
	json_string(&j, "driver", driver_name(cmd->driver));
	json_string(&j, "controller", label);
	json_uint(&j, "ctrl", cmd->ctrl);
	json_uint(&j, "qid", cmd->qid);
	json_bool(&j, "polled", type == NS_QTYPE_POLL);
	json_uint(&j, "cid", cmd->cid);
	json_uint(&j, "opcode", cmd->opcode);
	json_string(&j, "op", opcode_name(cmd->qid, cmd->opcode));
	json_uint(&j, "bytes", cmd->bytes);
	json_uint(&j, "slba", cmd->slba);
	json_uint(&j, "nlb", cmd->nlb);
	json_uint(&j, "status", cmd->status);
	json_uint(&j, "sq_slot", cmd->sq_slot);
	json_uint(&j, "cq_slot", cmd->cq_slot);
	json_uint(&j, "sq_head", cmd->sq_head);
	json_uint(&j, "submit_cpu", cmd->submit_cpu);
	json_uint(&j, "irq_cpu", cmd->irq_cpu);
	json_uint(&j, "complete_cpu", cmd->complete_cpu);
	json_uint(&j, "sq_doorbell_cmds", cmd->sq_doorbell_cmds);
	json_uint(&j, "cq_doorbell_cqes", cmd->cq_doorbell_cqes);
	json_array_begin(&j, "events");
	for (i = 0; i < n; i++) {
		__u64 ts = cmd->ts[order[i]];

		json_object_begin(&j, NULL);
		json_string(&j, "event", step_name_for(order[i], type));
		json_uint(&j, "t_ns", ts - t->first_ts);
		json_uint(&j, "since_start_ns", ts - cmd->ts[order[0]]);
		json_uint(&j, "since_prev_ns", i ? ts - cmd->ts[order[i - 1]] : 0);
		json_object_end(&j);
	}
	json_array_end(&j);
	json_array_begin(&j, "not_visible");
	for (i = 0; i < NS_STEP_COUNT; i++)
		if (!step_visible(cmd->driver, i))
			json_string(&j, NULL, step_name(i));
	json_array_end(&j);
	json_object_end(&j);
	json_end_line(&j);
}

static int on_cmd(void *ctx, const struct ns_cmd *cmd)
{
	struct trace *t = ctx;

	if (t->o->json)
		print_json(t, cmd);
	else
		print_text(t, cmd);
	t->printed++;
	return t->o->max_cmds && t->printed >= t->o->max_cmds;
}

static int on_events(void *ctx)
{
	struct trace *t = ctx;

	return collector_poll_events(t->c);
}

int report_trace(const struct options *o)
{
	struct trace t = { .o = o };
	struct live_options lo = { .duration_s = o->duration_s, .events_fd = -1 };
	struct live_callbacks cb = { .ctx = &t, .on_events = on_events };
	int ret;

	ret = collector_open(&t.c, o, COLLECT_TRACE, on_cmd, &t);
	if (ret)
		return ret;
	if (live_interrupted()) {
		collector_close(t.c);
		print_error("interrupted before tracing");
		return EXIT_INTERRUPTED;
	}
	lo.events_fd = collector_event_fd(t.c);
	if (!o->json)
		fprintf(stderr, "nvmescope trace: tracing %s commands%s, Ctrl-C to stop\n",
			driver_name(o->driver), o->max_cmds ? " (up to -c)" : "");
	ret = live_run(&lo, &cb);
	/* records still in the buffer when the duration ended or Ctrl-C came */
	collector_poll_events(t.c);
	collector_close(t.c);
	return ret ? EXIT_FAILURE_RUNTIME : EXIT_OK;
}
