/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "check/report.h"
#include "model/policy.h"
#include "shared/json.h"

/* The report as text (in colour on a terminal) and as JSON. */

#define ANSI_RESET "\033[0m"

static const char *status_color(CheckStatus s) {
        return s == CHECK_PASS ? "\033[32m" : s == CHECK_WARN ? "\033[33m" : "\033[1;31m";
}

static void print_result(const CheckResult *c, int width, FILE *out, bool color) {
        const char *label = c->status == CHECK_PASS ? "PASS" : c->status == CHECK_WARN ? "WARN" : "FAIL";
        fprintf(out, "  %s%s%s  %-*s  %s\n", color ? status_color(c->status) : "", label, color ? ANSI_RESET : "",
                width, c->id, c->message);
        if (c->hint)
                fprintf(out, "  %*s  %*s  %shint:%s %s\n", 4, "", width, "", color ? "\033[1m" : "",
                        color ? ANSI_RESET : "", c->hint);
}

void check_print_text(const CheckReport *r, FILE *out, bool color) {
        int width = 0;
        for (size_t i = 0; i < r->n_results; i++)
                if ((int) strlen(r->results[i].id) > width)
                        width = (int) strlen(r->results[i].id);

        fputs("Host:\n", out);
        for (size_t i = 0; i < r->n_host_results; i++)
                print_result(&r->results[i], width, out, color);
        if (r->domain) {
                char qb[VALUE_QUOTE_BUFSZ];
                fprintf(out, "Domain %s:\n", value_quote(r->domain, qb));
                for (size_t i = r->n_host_results; i < r->n_results; i++)
                        print_result(&r->results[i], width, out, color);
        }
        if (r->listed_groups) {
                if (r->n_groups == 0)
                        fputs("IOMMU groups: none (the IOMMU is off)\n", out);
                else
                        fputs("IOMMU groups:\n", out);
                for (size_t i = 0; i < r->n_groups; i++) {
                        fprintf(out, "  group %u\n", r->groups[i].number);
                        for (size_t j = 0; j < r->groups[i].n_devices; j++) {
                                const GroupDevice *gd = &r->groups[i].devices[j];
                                fprintf(out, "    %s %s (%s%s)\n", gd->addr, gd->name, gd->driver ? "driver " : "",
                                        gd->driver ? gd->driver : "no driver");
                        }
                }
        }

        size_t fail = check_report_count(r, CHECK_FAIL), warn = check_report_count(r, CHECK_WARN),
               pass = check_report_count(r, CHECK_PASS);
        fprintf(out, "%zu passed, %zu warning%s, %zu failed%s\n", pass, warn, warn == 1 ? "" : "s", fail,
                fail > 0 ? ": fix the failures before handing devices over" : "");
}

void check_print_domain_text(const CheckReport *r, FILE *out) {
        int width = 0;
        for (size_t i = r->n_host_results; i < r->n_results; i++)
                if ((int) strlen(r->results[i].id) > width)
                        width = (int) strlen(r->results[i].id);
        for (size_t i = r->n_host_results; i < r->n_results; i++)
                print_result(&r->results[i], width, out, false);
}

void check_print_json(const CheckReport *r, FILE *out) {
        fputs("{\"domain\": ", out);
        json_write_string_or_null(out, r->domain);
        fputs(", \"checks\": [", out);
        for (size_t i = 0; i < r->n_results; i++) {
                const CheckResult *c = &r->results[i];
                fputs(i ? ", {\"id\": " : "{\"id\": ", out);
                json_write_string(out, c->id);
                fprintf(out, ", \"status\": \"%s\", \"message\": ", check_status_to_string(c->status));
                json_write_string(out, c->message);
                fputs(", \"hint\": ", out);
                json_write_string_or_null(out, c->hint);
                fputc('}', out);
        }
        fputc(']', out);
        if (r->listed_groups) {
                fputs(", \"groups\": [", out);
                for (size_t i = 0; i < r->n_groups; i++) {
                        fprintf(out, "%s{\"group\": %u, \"devices\": [", i ? ", " : "", r->groups[i].number);
                        for (size_t j = 0; j < r->groups[i].n_devices; j++) {
                                const GroupDevice *gd = &r->groups[i].devices[j];
                                fprintf(out, "%s{\"address\": \"%s\", \"ids\": \"%04x:%04x\", \"class\": \"%06x\", "
                                             "\"name\": ",
                                        j ? ", " : "", gd->addr, gd->vendor, gd->device, gd->class);
                                json_write_string(out, gd->name);
                                fputs(", \"driver\": ", out);
                                json_write_string_or_null(out, gd->driver);
                                fputc('}', out);
                        }
                        fputs("]}", out);
                }
                fputc(']', out);
        }
        fputs("}\n", out);
}
